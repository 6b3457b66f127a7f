/**
 * The `probe:` section: allow patterns and deny ranges as written, what an ad-hoc target
 * inherits (probe.defaults over defaults:, by the code path configured targets take), and the
 * message for each mistake.
 */
import { adHocTarget } from '../../src/config/resolve-targets';
import { parseAddressRange, parseAllowPattern } from '../../src/config/probe-config';
import { parseHostPort } from '../../src/config/host';
import { issuesOf, loadText, yaml } from '../support/config-issues';
import { createCertificate } from '../support/pki';

const errorOf = (parsed: { value: unknown } | { error: string }): string => ('error' in parsed ? parsed.error : 'parsed');

describe('probe.allow patterns', () => {
  it.each<[string, string[], string[]]>([
    ['*.example.com:443', ['a.example.com:443', 'db-1.example.com:443'], ['example.com:443', 'a.b.example.com:443', 'a.example.com:8443', 'a.example.com.evil:443']],
    ['**.example.com:*', ['a.example.com:1', 'a.b.c.example.com:65535'], ['example.com:443', 'aexample.com:443']],
    ['db-*.internal:5432', ['db-1.internal:5432', 'db-.internal:5432'], ['db1.internal:5432', 'db-1.internal:5433', 'x.db-1.internal:5432']],
    ['Shop.Example.COM.:443', ['shop.example.com:443'], ['shop.example.co:443']],
  ])('%s matches names by label', (text, matching, other) => {
    const parsed = parseAllowPattern(text);
    if ('error' in parsed || parsed.value.kind !== 'name') throw new Error(`not a name pattern: ${text}`);
    const { pattern, port } = parsed.value;
    const matches = (target: string): boolean => {
      const [host = '', portText = ''] = target.split(':');
      return pattern.test(host) && (port === 'any' || port === Number(portText));
    };
    expect(matching.filter((t) => !matches(t))).toEqual([]);
    expect(other.filter(matches)).toEqual([]);
  });

  it.each<[string, object]>([
    ['10.0.0.0/8:443', { kind: 'range', range: { address: '10.0.0.0', prefix: 8, family: 'ipv4' }, port: 443 }],
    ['192.0.2.10:*', { kind: 'range', range: { address: '192.0.2.10', prefix: 32, family: 'ipv4' }, port: 'any' }],
    ['[2001:DB8::]/32:*', { kind: 'range', range: { address: '2001:db8::', prefix: 32, family: 'ipv6' }, port: 'any' }],
    ['[::1]:8443', { kind: 'range', range: { address: '::1', prefix: 128, family: 'ipv6' }, port: 8443 }],
  ])('%s is an address range', (text, expected) => {
    const parsed = parseAllowPattern(text);
    expect('value' in parsed ? parsed.value : parsed).toMatchObject(expected);
  });

  it.each<[string, RegExp]>([
    ['*.example.com', /has no port: write HOST:PORT/],
    ['[2001:db8::1]', /has no port/],
    ['2001:db8::/32:443', /has no port/],
    ['example.com:0', /the port is a number from 1 to 65535, or \* for any/],
    ['example.com:https', /the port is a number/],
    ['10.0.0.0/33:443', /the prefix length of an IPv4 CIDR is 0 to 32/],
    ['10.0.0.300:443', /is not an IP address or CIDR/],
    ['exa mple.com:443', /is not a name glob/],
    ['a**.example.com:443', /is not a name glob/],
    ['https://example.com:443', /is a URL: drop the scheme and write HOST:PORT/],
  ])('refuses %j', (text, message) => {
    expect(errorOf(parseAllowPattern(text))).toMatch(message);
  });
});

describe('probe.deny ranges', () => {
  it('reads addresses and CIDRs, IPv6 bare or in brackets', () => {
    expect(['10.1.2.3', '192.168.0.0/16', 'fd00::/8', '[fd00::]/8'].map((t) => parseAddressRange(t))).toEqual([
      { value: { text: '10.1.2.3', address: '10.1.2.3', prefix: 32, family: 'ipv4' } },
      { value: { text: '192.168.0.0/16', address: '192.168.0.0', prefix: 16, family: 'ipv4' } },
      { value: { text: 'fd00::/8', address: 'fd00::', prefix: 8, family: 'ipv6' } },
      { value: { text: '[fd00::]/8', address: 'fd00::', prefix: 8, family: 'ipv6' } },
    ]);
    expect(errorOf(parseAddressRange('fd00::/129'))).toMatch(/IPv6 CIDR is 0 to 128/);
    expect(errorOf(parseAddressRange('internal.example'))).toMatch(/is not an IP address or CIDR/);
  });
});

describe('/probe targets that are not configured names', () => {
  it.each<[string, object]>([
    ['example.com:8443', { host: 'example.com', port: 8443, ipv6: false }],
    ['Example.COM.', { host: 'example.com', port: 443, ipv6: false }],
    ['[2001:db8::1]:443', { host: '2001:db8::1', port: 443, ipv6: true }],
    ['2001:db8::1', { host: '2001:db8::1', port: 443, ipv6: true }],
    ['192.0.2.1:25', { host: '192.0.2.1', port: 25, ipv6: false }],
  ])('reads %s', (text, expected) => {
    expect(parseHostPort(text, 443)).toEqual(expected);
  });

  it.each<[string, RegExp]>([
    ['example.com:', /the port is a number from 1 to 65535/],
    ['example.com:99999', /the port is a number/],
    ['a:b:c', /is not HOST:PORT \(write an IPv6 address in brackets/],
    ['exa mple.com:443', /is not a valid DNS name or IP address/],
    [`${'a'.repeat(254)}:443`, /at most 253 characters/],
  ])('refuses %j', (text, message) => {
    expect(errorOf(parseHostPort(text, 443) as { error: string })).toMatch(message);
  });
});

describe('the probe: section', () => {
  it('is absent unless written, and empty when written with nothing under it', async () => {
    expect((await loadText(yaml('targets:', '  - host: a.example'))).probe).toBeUndefined();
    expect((await loadText(yaml('probe:'))).probe).toBeUndefined();
    expect((await loadText(yaml('probe:', '  allow: []'))).probe?.allow).toEqual([]);
  });

  it('gives ad-hoc targets probe.defaults over defaults:, resolved like a configured target\'s', async () => {
    const ca = await createCertificate({ subjectCn: 'probe CA', ca: true });
    const config = await loadText(yaml(
      'defaults:', '  interval: 1m', '  timeout: 20s', '  policy: rfc5280', '  max_validity: 398d',
      'probe:', '  allow: ["*.example.com:443"]', '  deny: [192.168.0.0/16]',
      '  defaults:', '    timeout: 5s', '    ca_file: probe-ca.pem', '    min_version: TLS12',
    ), { '/etc/certexp/probe-ca.pem': ca.pem });
    const settings = config.probe?.settings;
    if (settings === undefined) throw new Error('no probe settings');
    expect(settings).toMatchObject({ timeoutMs: 5000, intervalMs: 60_000, policy: 'rfc5280', caFile: '/etc/certexp/probe-ca.pem', minVersion: 'TLSv1.2', expectations: { maxValidityMs: 398 * 86_400_000 } });
    expect(settings.caCertificates).toHaveLength(1);
    expect(config.probe?.deny.map((d) => d.text)).toEqual(['192.168.0.0/16']);
    expect(adHocTarget(settings, '2001:db8::1', 443, true)).toMatchObject({ name: '[2001:db8::1]:443', host: '2001:db8::1', serverName: '2001:db8::1', timeoutMs: 5000, line: 0 });
    expect(adHocTarget(settings, 'a.example.com', 443, false, 'b.example.com').serverName).toBe('b.example.com');
  });

  it('reports each bad entry by its position, and keys that do not belong', async () => {
    expect(await issuesOf(yaml(
      'probe:', '  allow:', '    - example.com', '    - "*.example.com:443"', '  deny: [not-an-address]', '  defaults:', '    interval: 1m',
    ))).toEqual([
      '3:7: probe.allow[0]: "example.com" has no port: write HOST:PORT (*.example.com:443, 10.0.0.0/8:443, [2001:db8::]/32:443), * for any port',
      '5:10: probe.deny[0]: "not-an-address" is not an IP address or CIDR (examples: 10.0.0.0/8, 192.0.2.1, [2001:db8::]/32)',
      '7:5: probe.defaults.interval: unknown key "interval" (allowed: timeout, ca_file, policy, expected_fingerprints, allowed_issuers, max_validity, ocsp, crl, min_version, max_version, check_versions, cert_file, key_file, proxy_url, addresses)',
    ]);
  });

  it('refuses ocsp: responder and crl: distribution_point for ad-hoc targets, set there or inherited', async () => {
    expect(await issuesOf(yaml('probe:', '  allow: ["*.example.com:443"]', '  defaults:', '    ocsp: responder'))).toEqual([
      expect.stringMatching(/^4:11: probe\.defaults\.ocsp: ocsp: responder would make \/probe fetch the URL a probed server's certificate names/),
    ]);
    expect(await issuesOf(yaml('defaults:', '  ocsp: responder', 'probe:', '  allow: ["*.example.com:443"]'))).toEqual([
      expect.stringMatching(/^4:3: probe: ocsp: responder \(from defaults\.ocsp\) would make .*set probe\.defaults\.ocsp to stapled or none$/),
    ]);
    expect((await loadText(yaml('defaults:', '  ocsp: responder', 'probe:', '  defaults:', '    ocsp: stapled'))).probe?.settings.ocsp).toBe('stapled');
    expect(await issuesOf(yaml('defaults:', '  crl: distribution_point', 'probe:', '  allow: ["*.example.com:443"]'))).toEqual([
      expect.stringMatching(/^4:3: probe: crl: distribution_point \(from defaults\.crl\) would make .*set probe\.defaults\.crl to none$/),
    ]);
  });
});
