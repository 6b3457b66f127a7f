import type { ProbeConfig } from '../../src/config/config-types';
import { parseAddressRange, parseAllowPattern } from '../../src/config/probe-config';
import { AdHocAccess, guardedResolver } from '../../src/probing/ad-hoc-access';
import { ProbeError } from '../../src/probing/probe-failure';
import { resolveAddresses } from '../../src/probing/resolver';

function access(allow: string[], deny: string[] = []): AdHocAccess {
  const value = <T>(parsed: { value: T } | { error: string }): T => {
    if ('error' in parsed) throw new Error(parsed.error);
    return parsed.value;
  };
  const probe: Pick<ProbeConfig, 'allow' | 'deny'> = { allow: allow.map((a) => value(parseAllowPattern(a))), deny: deny.map((d) => value(parseAddressRange(d))) };
  return new AdHocAccess(probe);
}

describe('AdHocAccess.refusal: the target as requested', () => {
  const policy = access(['*.example.com:443', '10.0.0.0/8:443', '[2001:db8::]/32:*', '0.0.0.0/0:8443'], ['10.9.0.0/16']);

  it('admits names by glob and IP literals by range, on the pattern\'s port', () => {
    expect(policy.refusal('shop.example.com', 443, false)).toBeUndefined();
    expect(policy.refusal('10.1.2.3', 443, true)).toBeUndefined();
    expect(policy.refusal('2001:db8::5', 22, true)).toBeUndefined();
    expect(policy.refusal('::ffff:10.1.2.3', 443, true)).toBeUndefined();
  });

  it('refuses what no pattern matches: another port, a name by a range, an address by a glob', () => {
    for (const [host, port, literal] of [['shop.example.com', 8443, false], ['10.1.2.3', 444, true], ['example.com', 443, false], ['10.example.com.evil', 443, false], ['192.0.2.1', 443, true]] as const) {
      expect([host, port, policy.refusal(host, port, literal)]).toEqual([host, port, 'no probe.allow pattern matches it']);
    }
  });

  it('refuses an allowed IP literal that is denied, by probe.deny or the built-in ranges', () => {
    expect(policy.refusal('10.9.1.1', 443, true)).toBe('10.9.1.1 is in probe.deny');
    expect(policy.refusal('169.254.169.254', 8443, true)).toMatch(/^169\.254\.169\.254 is link-local, where cloud metadata services answer .*never probed unless probe\.allow names an address in 169\.254\.0\.0\/16$/);
    expect(policy.refusal('127.0.0.1', 8443, true)).toMatch(/is loopback/);
  });
});

describe('AdHocAccess.deniedAddress: where a name leads', () => {
  it('denies loopback, link-local, unspecified and cloud metadata addresses, IPv4-mapped forms too', () => {
    const policy = access(['**:443']);
    for (const address of ['127.0.0.1', '127.255.0.1', '::1', '0.0.0.0', '::', '169.254.169.254', '::ffff:169.254.169.254', 'fe80::1', 'fd00:ec2::254', '100.100.100.200', '168.63.129.16']) {
      expect([address, policy.deniedAddress(address)]).toEqual([address, expect.stringMatching(/never probed unless probe\.allow names an address in/)]);
    }
    for (const address of ['10.0.0.1', '192.168.1.1', '2001:db8::1', '8.8.8.8']) expect([address, policy.deniedAddress(address)]).toEqual([address, undefined]);
  });

  it('lifts a built-in range only where probe.allow names addresses inside it, whatever their port', () => {
    const policy = access(['127.0.0.1:9443', '169.254.10.0/24:*', '0.0.0.0/0:443', '[::ffff:127.0.0.5]:443']);
    expect(policy.deniedAddress('127.0.0.1')).toBeUndefined();
    expect(policy.deniedAddress('127.0.0.5')).toBeUndefined();
    expect(policy.deniedAddress('169.254.10.7')).toBeUndefined();
    // 0.0.0.0/0 contains the metadata address but does not name it: a wide range lifts nothing.
    expect(policy.deniedAddress('169.254.169.254')).toMatch(/link-local/);
    expect(policy.deniedAddress('127.0.0.2')).toMatch(/loopback/);
  });

  it('lets probe.deny win over an allow pattern that names the address', () => {
    expect(access(['127.0.0.0/8:*'], ['127.0.0.2']).deniedAddress('127.0.0.2')).toBe('127.0.0.2 is in probe.deny');
  });
});

describe('guardedResolver', () => {
  const names: Record<string, string[]> = { 'ok.example': ['192.0.2.1', '2001:db8::1'], 'meta.example': ['192.0.2.1', '169.254.169.254'] };
  const inner = (host: string): Promise<readonly string[]> => Promise.resolve(names[host] ?? []);

  it('passes an answer with no denied address, and fails one with any, as address_denied', async () => {
    const resolver = guardedResolver(inner, () => access(['**:443']));
    expect(await resolveAddresses(resolver, 'ok.example', new AbortController().signal)).toEqual(['192.0.2.1', '2001:db8::1']);
    const denied = await resolveAddresses(resolver, 'meta.example', new AbortController().signal).catch((error: unknown) => error);
    expect(denied).toBeInstanceOf(ProbeError);
    expect(denied).toMatchObject({ reason: 'address_denied' });
    expect((denied as ProbeError).message).toMatch(/^dns: meta\.example resolves to 169\.254\.169\.254 is link-local/);
  });

  it('denies everything once the probe: section is gone (a reload during the probe)', async () => {
    await expect(guardedResolver(inner, () => undefined)('ok.example')).rejects.toMatchObject({ reason: 'address_denied' });
  });
});
