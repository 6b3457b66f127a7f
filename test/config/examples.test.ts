import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load-config';
import { createCertificate } from '../support/pki';
import { describeWithTool } from '../support/tools';

const EXAMPLES = join(__dirname, '..', '..', 'config', 'examples');
const files = readdirSync(EXAMPLES).filter((name) => name.endsWith('.yml')).sort();

/**
 * The files examples name next to themselves (certificates, keys, CA bundles) are the operator's,
 * not the repository's: the test makes them up, and reads everything else from disk.
 */
const madeUp: Record<string, string> = {};
const exampleFiles = (path: string): Promise<string> => {
  const name = path.startsWith(`${EXAMPLES}/`) ? path.slice(EXAMPLES.length + 1) : '';
  return madeUp[name] === undefined ? readFile(path, 'utf8') : Promise.resolve(madeUp[name]);
};

beforeAll(async () => {
  const [ca, client] = await Promise.all([
    createCertificate({ subjectCn: 'example CA', ca: true }),
    createCertificate({ subjectCn: 'example client', dnsNames: [], extKeyUsage: ['clientAuth'] }),
  ]);
  Object.assign(madeUp, {
    'private-ca.pem': ca.pem,
    'client.pem': client.pem,
    'client.key': client.key.privateKeyPem,
    'broker-client.pem': client.pem,
    'broker-client.key': client.key.privateKeyPem,
    'keystore.pass': 'changeit\n',
  });
});

describe('config/examples', () => {
  it('holds an example for each feature that has one', () => {
    expect(files).toEqual(expect.arrayContaining(['expectations.yml', 'starttls.yml', 'protocol-versions.yml', 'client-certificates.yml', 'routes.yml', 'every-address.yml', 'probe-allow-list.yml', 'files.yml']));
  });

  it.each(files)('loads %s without a finding, as --config.check would', async (name) => {
    const config = await loadConfig(join(EXAMPLES, name), exampleFiles);
    expect(config.targets.length).toBeGreaterThan(0);
  });

  it('gives files.yml\'s entries the paths, defaults and password its comments describe', async () => {
    const config = await loadConfig(join(EXAMPLES, 'files.yml'), exampleFiles);
    expect(config.files.map((f) => [f.name, f.patterns, f.intervalMs, f.caFile, f.policy, f.serverName, f.pkcs12Password?.reveal()])).toEqual([
      ['k8s-secrets', ['/etc/tls/*/tls.crt'], 60_000, join(EXAMPLES, 'private-ca.pem'), 'web', undefined, undefined],
      ['local-bundles', [join(EXAMPLES, 'certs/**/*.pem'), join(EXAMPLES, 'certs/**/*.crt')], 300_000, join(EXAMPLES, 'private-ca.pem'), 'web', 'shop.example.com', undefined],
      ['keystores', [join(EXAMPLES, 'keystores/*.p12'), join(EXAMPLES, 'keystores/*.pfx')], 60_000, join(EXAMPLES, 'private-ca.pem'), 'rfc5280', undefined, 'changeit'],
    ]);
  });

  it('gives protocol-versions.yml\'s targets the versions and checks its comments describe', async () => {
    const config = await loadConfig(join(EXAMPLES, 'protocol-versions.yml'));
    expect(config.targets.map((t) => [t.minVersion, t.maxVersion, t.checkVersions])).toEqual([
      [undefined, undefined, ['TLSv1', 'TLSv1.1']],
      ['TLSv1.2', undefined, ['TLSv1', 'TLSv1.1']],
      [undefined, 'TLSv1.2', []],
    ]);
  });

  it('gives client-certificates.yml\'s targets the defaults\' pair or their own', async () => {
    const config = await loadConfig(join(EXAMPLES, 'client-certificates.yml'), exampleFiles);
    expect(config.targets.map((t) => t.clientCertificate?.certFile)).toEqual([join(EXAMPLES, 'client.pem'), join(EXAMPLES, 'broker-client.pem')]);
  });

  it('gives routes.yml\'s targets the addresses and proxies its comments describe', async () => {
    const config = await loadConfig(join(EXAMPLES, 'routes.yml'));
    expect(config.targets.map((t) => [t.name, t.address, t.proxy?.url])).toEqual([
      ['shop-node-a', '192.0.2.10', undefined],
      ['shop-node-b', '192.0.2.11', undefined],
      ['partner.example.net:443', undefined, 'http://proxy.internal.example:3128'],
      ['mx.partner.example.net:25', undefined, 'http://proxy.internal.example:3128'],
    ]);
  });

  it('probes every address of the names in every-address.yml, except where a target says first', async () => {
    const config = await loadConfig(join(EXAMPLES, 'every-address.yml'));
    expect(config.targets.map((t) => [t.name, t.everyAddress ?? false])).toEqual([
      ['shop.example.com:443', true],
      ['mx.example.com:25', true],
      ['api.example.com:443', false],
    ]);
  });

  it('gives every target of starttls.yml its protocol and the protocol\'s port unless it sets one', async () => {
    const config = await loadConfig(join(EXAMPLES, 'starttls.yml'));
    expect(config.targets.map((t) => `${t.name} ${t.starttls ?? ''}`)).toEqual([
      'mx.example.com:25 smtp',
      'mail-submission smtp',
      'mail.example.com:143 imap',
      'mail.example.com:110 pop3',
      'files.example.com:21 ftp',
      'ldap.internal.example:389 ldap',
      'chat.example.com:5222 xmpp',
      'db.internal.example:5432 postgres',
      'db.internal.example:3306 mysql',
    ]);
  });

  it('gives every target of expectations.yml the expectations its comments describe', async () => {
    const config = await loadConfig(join(EXAMPLES, 'expectations.yml'));
    expect(config.targets.map((t) => [t.name, t.expectations?.fingerprints?.length ?? 0, t.expectations?.allowedIssuers?.length, t.expectations?.maxValidityMs])).toEqual([
      ['shop.example.com:443', 2, 2, 398 * 86_400_000],
      ['api.example.com:443', 0, 1, 398 * 86_400_000],
      ['legacy.internal.example:443', 0, 0, 825 * 86_400_000],
    ]);
  });
});

describeWithTool('yamllint', 'yamllint', 'yamllint on config/examples/', () => {
  it('finds no error and no warning in any example', () => {
    const result = spawnSync('yamllint', ['--strict', '-f', 'parsable', '-c', join(__dirname, '..', '..', '.yamllint.yml'), EXAMPLES], { encoding: 'utf8', timeout: 30_000 });
    expect(`${result.stdout}${result.stderr}`).toBe('');
    expect(result.status).toBe(0);
  });
});
