/**
 * address and proxy_url in certexp.yml: what a target ends up connecting to, inheritance from
 * defaults and the `direct` opt-out, and the exact message for each mistake, never quoting a
 * proxy password.
 */
import { issuesOf, loadText, yaml } from '../support/config-issues';


describe('address', () => {
  it.each([['192.0.2.10', '192.0.2.10'], ['[2001:db8::10]', '2001:db8::10'], ['Origin.Example.', 'origin.example']])(
    'connects to %s as %s, and keeps the host for SNI and the default name', async (given, address) => {
      const config = await loadText(yaml('targets:', '  - host: shop.example', `    address: "${given}"`));
      expect(config.targets.map((t) => [t.name, t.serverName, t.address])).toEqual([['shop.example:443', 'shop.example', address]]);
    },
  );

  it('rejects an address with a port or a scheme, as it rejects such a host', async () => {
    expect(await issuesOf(yaml('targets:', '  - host: shop.example', '    address: 192.0.2.10:8443'))).toEqual([
      '3:14: targets[0].address: "192.0.2.10:8443" is not a bare DNS name or IP address: drop the scheme and path, and put the port in port:',
    ]);
  });

  it('is not a key of defaults', async () => {
    expect((await issuesOf(yaml('defaults:', '  address: 192.0.2.10')))[0]).toMatch(/^2:3: defaults\.address: unknown key "address"/);
  });
});

describe('proxy_url', () => {
  it('gives every target the default proxy, lets a target name its own, and takes it out with direct', async () => {
    const config = await loadText(yaml(
      'defaults:', '  proxy_url: http://proxy.internal:3128',
      'targets:', '  - host: a.example', '  - host: b.example', '    proxy_url: "http://[2001:db8::1]:8080/"', '  - host: c.example', '    proxy_url: direct',
    ));
    expect(config.targets.map((t) => t.proxy === undefined ? undefined : [t.proxy.host, t.proxy.port, t.proxy.url])).toEqual([
      ['proxy.internal', 3128, 'http://proxy.internal:3128'],
      ['2001:db8::1', 8080, 'http://[2001:db8::1]:8080'],
      undefined,
    ]);
  });

  it('turns user and password into Basic credentials that never show in the config', async () => {
    const config = await loadText(yaml('targets:', '  - host: a.example', '    proxy_url: http://probe:p%40ss@proxy.internal'));
    const proxy = config.targets[0]?.proxy;
    expect(proxy?.port).toBe(80);
    expect(proxy?.url).toBe('http://proxy.internal');
    expect(proxy?.authorization?.reveal()).toBe(`Basic ${Buffer.from('probe:p@ss').toString('base64')}`);
    expect(JSON.stringify(config)).not.toMatch(/p@ss|p%40ss|cHJvYmU6cEBzcw/);
  });

  it.each([
    ['socks5://proxy.internal:1080', 'proxy_url "socks5://proxy.internal:1080": only http:// proxies are supported (HTTP CONNECT)'],
    ['https://user:secret@proxy.internal', 'proxy_url "https://proxy.internal": only http:// proxies are supported (HTTP CONNECT)'],
    ['http://proxy.internal:3128/path', 'proxy_url "http://proxy.internal:3128": drop the path, query and fragment; a proxy is host and port'],
    ['proxy.internal:3128', 'proxy_url has no scheme: write it as http://host:port'],
    ['http://exa mple:3128', 'proxy_url is not a URL: write http://host:port'],
  ])('rejects %s, never quoting credentials', async (url, message) => {
    expect(await issuesOf(yaml('targets:', '  - host: a.example', `    proxy_url: "${url}"`))).toEqual([`3:16: targets[0].proxy_url: ${message}`]);
  });
});

describe('addresses', () => {
  it('takes addresses from defaults, and a target may go back to first', async () => {
    const config = await loadText(yaml('defaults:', '  addresses: all', 'targets:', '  - host: a.example', '  - host: b.example', '    addresses: first'));
    expect(config.targets.map((t) => t.everyAddress)).toEqual([true, undefined]);
  });

  it.each([
    [['    addresses: all', '    address: 192.0.2.10'], '3:16: targets[0].addresses: addresses: all probes every address of host, and address names one: set one of them'],
    [['    addresses: all', '    proxy_url: http://proxy.internal:3128'],
      '3:16: targets[0].addresses: addresses: all needs a direct connection: through proxy_url the proxy resolves the name and picks the address'],
    [['    addresses: some'], '3:16: targets[0].addresses: expected one of "first", "all", got "some"'],
  ])('rejects %j', async (lines, message) => {
    expect(await issuesOf(yaml('targets:', '  - host: a.example', ...lines))).toEqual([message]);
  });

  it('points at the target\'s proxy_url when addresses: all comes from defaults', async () => {
    expect(await issuesOf(yaml('defaults:', '  addresses: all', 'targets:', '  - host: a.example', '    proxy_url: http://proxy.internal:3128'))).toEqual([
      '5:16: targets[0].proxy_url: addresses: all needs a direct connection: through proxy_url the proxy resolves the name and picks the address',
    ]);
  });
});
