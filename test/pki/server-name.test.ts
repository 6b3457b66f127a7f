/**
 * certificateMatchesName, table-driven over real certificates: each row builds a certificate
 * with the given subjectAltName (or none) and CN, parses it with parseCertificate, and checks
 * one server name against it.
 */
import { parseCertificate, type ParsedCertificate } from '../../src/pki/certificate';
import { certificateMatchesName } from '../../src/pki/server-name';
import { cachedKeyPair, createCertificate } from '../support/pki';

interface CertSpec {
  /** dNSName SAN entries. */
  readonly dns?: string[];
  /** iPAddress SAN entries. */
  readonly ip?: string[];
  /** Subject CN; default "certexp-test leaf" (which no row asks for). */
  readonly cn?: string;
  /** No subjectAltName extension at all (a pre-RFC 2818 certificate). */
  readonly noSan?: true;
}

const certs = new Map<string, ParsedCertificate>();

function specKey(spec: CertSpec): string {
  return JSON.stringify([spec.dns ?? [], spec.ip ?? [], spec.cn ?? '', spec.noSan ?? false]);
}

async function build(spec: CertSpec): Promise<ParsedCertificate> {
  const cert = await createCertificate({
    subjectCn: spec.cn ?? 'certexp-test leaf',
    key: await cachedKeyPair('ec-p256', 'server-name'),
    ...(spec.noSan === true ? { omitSubjectAltName: true } : { dnsNames: spec.dns ?? [], ipAddresses: spec.ip ?? [] }),
  });
  return parseCertificate(cert.der);
}

function cert(spec: CertSpec): ParsedCertificate {
  const parsed = certs.get(specKey(spec));
  if (parsed === undefined) throw new Error(`certificate not built: ${specKey(spec)}`);
  return parsed;
}

type Row = readonly [description: string, spec: CertSpec, serverName: string];

const MATCHES: readonly Row[] = [
  // Exact DNS names
  ['the DNS SAN is the name', { dns: ['www.example.com'] }, 'www.example.com'],
  ['one of several DNS SANs is the name', { dns: ['a.example.com', 'b.example.com', 'c.example.com'] }, 'b.example.com'],
  ['the SAN is upper case and the name lower case', { dns: ['WWW.Example.COM'] }, 'www.example.com'],
  ['the name is upper case and the SAN lower case', { dns: ['www.example.com'] }, 'WWW.EXAMPLE.COM'],
  ['the name has a trailing dot', { dns: ['www.example.com'] }, 'www.example.com.'],
  ['the SAN has a trailing dot', { dns: ['www.example.com.'] }, 'www.example.com'],
  ['a DNS SAN sits beside IP SANs', { dns: ['localhost'], ip: ['127.0.0.1', '::1'] }, 'localhost'],
  // Wildcards
  ['a wildcard SAN covers one label', { dns: ['*.example.com'] }, 'shop.example.com'],
  ['a wildcard SAN covers one label in another case', { dns: ['*.Example.com'] }, 'SHOP.example.COM'],
  ['a wildcard SAN covers one label and the name has a trailing dot', { dns: ['*.example.com'] }, 'shop.example.com.'],
  ['a wildcard SAN sits under a two-label base with a short TLD', { dns: ['*.example.co'] }, 'a.example.co'],
  // IDN
  ['the A-label SAN is the punycode of the U-label name', { dns: ['xn--bcher-kva.example'] }, 'bücher.example'],
  ['the A-label SAN is the name in A-label form', { dns: ['xn--bcher-kva.example'] }, 'xn--bcher-kva.example'],
  ['the U-label name is in upper case', { dns: ['xn--bcher-kva.example'] }, 'BÜCHER.example'],
  ['a wildcard SAN sits over an A-label base and the name uses the U-label', { dns: ['*.xn--bcher-kva.example'] }, 'www.bücher.example'],
  // IP addresses
  ['the IPv4 SAN is the address', { ip: ['127.0.0.1'] }, '127.0.0.1'],
  ['the IPv6 SAN is ::1', { ip: ['::1'] }, '::1'],
  ['the IPv6 SAN is ::1 and the name is written in full', { ip: ['::1'] }, '0:0:0:0:0:0:0:1'],
  ['the IPv6 SAN is ::1 and the name has leading zeros', { ip: ['::1'] }, '0000:0000::0001'],
  ['the IPv6 SAN is ::1 and the name is bracketed', { ip: ['::1'] }, '[::1]'],
  ['the IPv6 SAN is matched with an upper-case name', { ip: ['2001:db8::a'] }, '2001:DB8:0:0:0:0:0:A'],
  ['one of several IP SANs is the address', { ip: ['10.0.0.1', '127.0.0.1', '::1'], dns: ['localhost'] }, '::1'],
  // CN fallback
  ['there is no SAN extension and the CN is the name', { noSan: true, cn: 'legacy.example' }, 'legacy.example'],
  ['there is no SAN extension and the CN is the name in another case, with a trailing dot', { noSan: true, cn: 'Legacy.Example' }, 'legacy.example.'],
  ['there is no SAN extension and the CN is a wildcard', { noSan: true, cn: '*.legacy.example' }, 'www.legacy.example'],
];

const MISMATCHES: readonly Row[] = [
  // Exact DNS names
  ['the SAN is another name', { dns: ['www.example.com'] }, 'www.example.org'],
  ['the SAN is a subdomain of the name', { dns: ['www.example.com'] }, 'example.com'],
  ['the name is a subdomain of the SAN', { dns: ['example.com'] }, 'www.example.com'],
  ['the name only ends with the SAN text', { dns: ['example.com'] }, 'badexample.com'],
  ['the name is empty', { dns: ['www.example.com'] }, ''],
  // Wildcards: exactly one whole leftmost label
  ['a wildcard SAN would cover zero labels (the bare domain)', { dns: ['*.example.com'] }, 'example.com'],
  ['a wildcard SAN would cover two labels', { dns: ['*.example.com'] }, 'a.b.example.com'],
  ['a wildcard SAN would cover an empty label', { dns: ['*.example.com'] }, '.example.com'],
  ['a wildcard SAN is for another domain', { dns: ['*.example.com'] }, 'shop.example.org'],
  ['the SAN is a partial-label wildcard (f*)', { dns: ['f*.example.com'] }, 'foo.example.com'],
  ['the SAN is a partial-label wildcard (*o)', { dns: ['*oo.example.com'] }, 'foo.example.com'],
  ['the SAN is a partial-label wildcard (f*o)', { dns: ['f*o.example.com'] }, 'foo.example.com'],
  ['the wildcard is not the leftmost label', { dns: ['www.*.example.com'] }, 'www.shop.example.com'],
  ['the SAN has two wildcard labels', { dns: ['*.*.example.com'] }, 'a.b.example.com'],
  ['the SAN is *.com', { dns: ['*.com'] }, 'example.com'],
  ['the SAN is a bare *', { dns: ['*'] }, 'localhost'],
  // IDN
  ['the name is the U-label and the SAN its ASCII look-alike', { dns: ['bucher.example'] }, 'bücher.example'],
  // IP addresses
  ['the IPv4 SAN is another address', { ip: ['127.0.0.1'] }, '127.0.0.2'],
  ['the IPv6 SAN is another address', { ip: ['::1'] }, '::2'],
  ['the name is IPv6 ::1 and the SAN is IPv4 127.0.0.1', { ip: ['127.0.0.1'] }, '::1'],
  ['the name is the IPv4-mapped form of the IPv4 SAN', { ip: ['127.0.0.1'] }, '::ffff:127.0.0.1'],
  ['the name is IPv4 and only a DNS SAN of the same text exists', { dns: ['127.0.0.1'] }, '127.0.0.1'],
  ['the name is IPv6 and only a DNS SAN of the same text exists', { dns: ['::1'] }, '::1'],
  ['the name is a DNS name and only IP SANs exist', { ip: ['127.0.0.1', '::1'] }, 'localhost'],
  // CN fallback only without any SAN, never for IPs
  ['the CN is the name but a DNS SAN exists', { dns: ['san.example'], cn: 'cn.example' }, 'cn.example'],
  ['the CN is the name but only an IP SAN exists', { ip: ['127.0.0.1'], cn: 'cn.example' }, 'cn.example'],
  ['there is no SAN extension and the CN is another name', { noSan: true, cn: 'legacy.example' }, 'other.example'],
  ['there is no SAN extension and the name is the IPv4 CN', { noSan: true, cn: '127.0.0.1' }, '127.0.0.1'],
  ['there is no SAN extension and the name is the IPv6 CN', { noSan: true, cn: '::1' }, '::1'],
  ['there is no SAN extension and a wildcard CN would cover two labels', { noSan: true, cn: '*.legacy.example' }, 'a.b.legacy.example'],
  // Other spellings of an address are neither an IP nor a DNS name: no URL-style rewriting.
  ['the name is 127.000.0.1 and a DNS SAN reads 127.0.0.1', { dns: ['127.0.0.1'] }, '127.000.0.1'],
  ['the name is 127.1 and a DNS SAN reads 127.0.0.1', { dns: ['127.0.0.1'] }, '127.1'],
  ['the name is 0x7f.0.0.1 and a DNS SAN reads 127.0.0.1', { dns: ['127.0.0.1'] }, '0x7f.0.0.1'],
  ['the name is 2130706433 and a DNS SAN reads 127.0.0.1', { dns: ['127.0.0.1'] }, '2130706433'],
  ['the name is 127.0.0.1. and a DNS SAN reads 127.0.0.1', { dns: ['127.0.0.1'] }, '127.0.0.1.'],
  ['the name is 127.1 and a SAN-less CN reads 127.0.0.1', { noSan: true, cn: '127.0.0.1' }, '127.1'],
  ['the name is 0x7f.0.0.1 and a SAN-less CN reads 127.0.0.1', { noSan: true, cn: '127.0.0.1' }, '0x7f.0.0.1'],
  // A server name is a name, never a pattern.
  ['the name is itself a wildcard', { dns: ['*.example.com'] }, '*.example.com'],
  ['the name is itself a partial wildcard', { dns: ['f*.example.com'] }, 'f*.example.com'],
];

beforeAll(async () => {
  for (const [, spec] of [...MATCHES, ...MISMATCHES]) {
    if (!certs.has(specKey(spec))) certs.set(specKey(spec), await build(spec));
  }
});

describe('certificateMatchesName', () => {
  it('parses the test certificates with the SANs the rows describe', () => {
    const withSan = cert({ dns: ['localhost'], ip: ['127.0.0.1', '::1'] });
    expect(withSan.hasSubjectAltName).toBe(true);
    expect(withSan.dnsNames).toEqual(['localhost']);
    expect(withSan.ipAddresses).toEqual(['127.0.0.1', '::1']);
    const legacy = cert({ noSan: true, cn: 'legacy.example' });
    expect(legacy.hasSubjectAltName).toBe(false);
    expect(legacy.subject.commonName).toBe('legacy.example');
  });

  it.each(MATCHES)('returns true when %s (%j, %s)', (_description, spec, serverName) => {
    expect(certificateMatchesName(cert(spec), serverName)).toBe(true);
  });

  it.each(MISMATCHES)('returns false when %s (%j, %s)', (_description, spec, serverName) => {
    expect(certificateMatchesName(cert(spec), serverName)).toBe(false);
  });
});
