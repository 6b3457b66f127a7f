/**
 * The TLS keys of certexp.yml (min_version, max_version, check_versions, cert_file, key_file):
 * inheritance from defaults, and the exact message, line and key of each mistake. Files come
 * from an in-memory file system holding the test PKI's certificates and keys.
 */
import { issuesOf, loadText, yaml } from '../support/config-issues';
import { createCertificate, days, hours, type TestCert } from '../support/pki';
import { buildTestPki, chainPem, type TestPki } from '../support/scenarios';

let pki: TestPki;
let client: TestCert;
let files: Record<string, string>;
const load = (text: string): ReturnType<typeof loadText> => loadText(text, files);
const messages = (text: string): ReturnType<typeof issuesOf> => issuesOf(text, files);

beforeAll(async () => {
  pki = await buildTestPki();
  client = await createCertificate({
    subjectCn: 'certexp-probe', issuer: pki.intermediate, notBefore: new Date(Date.now() - hours(1)), notAfter: new Date(Date.now() + days(45)),
    dnsNames: [], extKeyUsage: ['clientAuth'],
  });
  files = {
    '/etc/certexp/client.pem': chainPem(client, pki.intermediate),
    '/etc/certexp/client.key': client.key.privateKeyPem,
    '/etc/certexp/other.key': pki.valid.key.privateKeyPem,
    '/etc/certexp/garbage.key': 'not a key\n',
  };
});

describe('TLS versions', () => {
  it('maps the version names to what TLS takes, and lets a target override the defaults', async () => {
    const config = await load(yaml('defaults:', '  min_version: TLS12', 'targets:', '  - host: a.example', '  - host: b.example', '    min_version: TLS10', '    max_version: TLS12'));
    expect(config.targets.map((t) => [t.minVersion, t.maxVersion])).toEqual([['TLSv1.2', undefined], ['TLSv1', 'TLSv1.2']]);
  });

  it('sets no version keys on a target that names none', async () => {
    const config = await load(yaml('targets:', '  - host: a.example'));
    for (const key of ['minVersion', 'maxVersion', 'checkVersions', 'clientCertificate']) expect(config.targets[0]).not.toHaveProperty(key);
  });

  it('rejects a min_version above the max_version, where the target sets the one that conflicts', async () => {
    expect(await messages(yaml('defaults:', '  min_version: TLS13', 'targets:', '  - host: a.example', '    max_version: TLS12'))).toEqual([
      '5:18: targets[0].max_version: min_version TLS13 is above max_version TLS12',
    ]);
  });

  it('rejects a version name it does not know, listing those it does', async () => {
    expect(await messages(yaml('targets:', '  - host: a.example', '    min_version: TLSv1.2'))).toEqual([
      '3:18: targets[0].min_version: expected one of "TLS10", "TLS11", "TLS12", "TLS13", got "TLSv1.2"',
    ]);
  });

  it('orders check_versions and drops repeats, and an empty list means no checks', async () => {
    const config = await load(yaml('defaults:', '  check_versions: [TLS11, TLS10, TLS11]', 'targets:', '  - host: a.example', '  - host: b.example', '    check_versions: []'));
    expect(config.targets.map((t) => t.checkVersions)).toEqual([['TLSv1', 'TLSv1.1'], []]);
  });

  it('rejects a check_versions entry it does not know', async () => {
    expect(await messages(yaml('targets:', '  - host: a.example', '    check_versions: [TLS10, SSL3]'))).toEqual([
      '3:29: targets[0].check_versions[1]: expected one of "TLS10", "TLS11", "TLS12", "TLS13", got "SSL3"',
    ]);
  });
});

describe('client certificates', () => {
  it('loads the certificate and key relative to the config file, and knows when the certificate expires', async () => {
    const config = await load(yaml('targets:', '  - host: a.example', '    cert_file: client.pem', '    key_file: client.key'));
    const certificate = config.targets[0]?.clientCertificate;
    expect(certificate).toMatchObject({ certFile: '/etc/certexp/client.pem', keyFile: '/etc/certexp/client.key', notAfter: client.notAfter.getTime() });
    expect(certificate?.certificatePem).toBe(chainPem(client, pki.intermediate));
    expect(certificate?.key.reveal()).toBe(client.key.privateKeyPem);
  });

  it('never shows the key when the config is logged or serialised', async () => {
    const config = await load(yaml('targets:', '  - host: a.example', '    cert_file: client.pem', '    key_file: client.key'));
    expect(JSON.stringify(config)).not.toContain('PRIVATE KEY');
  });

  it('gives every target the defaults\' pair, and a target\'s own pair replaces it', async () => {
    files['/etc/certexp/own.pem'] = pki.valid.pem;
    const config = await load(yaml(
      'defaults:', '  cert_file: client.pem', '  key_file: client.key',
      'targets:', '  - host: a.example', '  - host: b.example', '    cert_file: own.pem', '    key_file: other.key',
    ));
    expect(config.targets.map((t) => t.clientCertificate?.certFile)).toEqual(['/etc/certexp/client.pem', '/etc/certexp/own.pem']);
  });

  it.each([
    [['    cert_file: client.pem'], '3:16: targets[0].cert_file: cert_file needs key_file, the private key of the certificate'],
    [['    key_file: client.key'], '3:15: targets[0].key_file: key_file needs cert_file, the certificate of the key'],
    [['    cert_file: missing.pem', '    key_file: client.key'], '3:16: targets[0].cert_file: cannot read "/etc/certexp/missing.pem": ENOENT'],
    [['    cert_file: client.key', '    key_file: client.key'], '3:16: targets[0].cert_file: "/etc/certexp/client.key" contains no PEM CERTIFICATE block'],
    [['    cert_file: client.pem', '    key_file: garbage.key'], '4:15: targets[0].key_file: "/etc/certexp/garbage.key" holds no unencrypted PEM private key'],
    [['    cert_file: client.pem', '    key_file: other.key'],
      '4:15: targets[0].key_file: the private key in "/etc/certexp/other.key" does not belong to the certificate in "/etc/certexp/client.pem"'],
  ])('reports %j with file, line and key', async (lines, message) => {
    expect(await messages(yaml('targets:', '  - host: a.example', ...lines))).toEqual([message]);
  });
});
