import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError } from '../../src/config/config-error';
import { loadConfig } from '../../src/config/load-config';
import { createCertificate } from '../support/pki';

const FILE = '/etc/certexp/certexp.yml';
const EXAMPLE = join(__dirname, '..', '..', 'config', 'examples', 'ocsp.yml');
const CRL_EXAMPLE = join(__dirname, '..', '..', 'config', 'examples', 'crl.yml');

function load(text: string): ReturnType<typeof loadConfig> {
  return loadConfig(FILE, (path) => (path === FILE ? Promise.resolve(text) : Promise.reject(new Error(`no ${path}`))));
}

describe('the ocsp key', () => {
  it('takes ocsp from defaults, lets a target override it, and leaves it unset (stapled) otherwise', async () => {
    const inherited = await load('defaults:\n  ocsp: responder\ntargets:\n  - host: a\n  - host: b\n    ocsp: none\n');
    expect(inherited.targets.map((t) => t.ocsp)).toEqual(['responder', 'none']);
    const plain = await load('targets:\n  - host: a\n');
    expect(plain.targets[0]).not.toHaveProperty('ocsp');
  });

  it('names the three modes when given another', async () => {
    await expect(load('targets:\n  - host: a\n    ocsp: crl\n')).rejects.toThrow(new ConfigError([{
      file: FILE, line: 3, column: 11, key: 'targets[0].ocsp', message: 'expected one of "stapled", "responder", "none", got "crl"',
    }]));
  });

  it('gives each target of config/examples/ocsp.yml the mode its comments describe', async () => {
    const config = await loadConfig(EXAMPLE);
    expect(config.targets.map((t) => [t.name, t.ocsp])).toEqual([
      ['shop.example.com:443', 'responder'], ['www.example.org:443', 'stapled'], ['legacy.example.net:443', 'none'],
    ]);
  });
});

describe('the crl key', () => {
  it('takes crl from defaults, lets a target override it, and leaves it unset (none) otherwise', async () => {
    const inherited = await load('defaults:\n  crl: distribution_point\ntargets:\n  - host: a\n  - host: b\n    crl: none\n');
    expect(inherited.targets.map((t) => t.crl)).toEqual(['distribution_point', 'none']);
    const plain = await load('targets:\n  - host: a\n');
    expect(plain.targets[0]).not.toHaveProperty('crl');
  });

  it('names the two modes when given another', async () => {
    await expect(load('targets:\n  - host: a\n    crl: true\n')).rejects.toThrow(new ConfigError([{
      file: FILE, line: 3, column: 10, key: 'targets[0].crl', message: 'expected one of "distribution_point", "none", got true',
    }]));
  });

  it('gives each target of config/examples/crl.yml the checks its comments describe', async () => {
    const { pem } = await createCertificate({ subjectCn: 'example CA', ca: true });
    const config = await loadConfig(CRL_EXAMPLE, (path) => (path.endsWith('/private-ca.pem') ? Promise.resolve(pem) : readFile(path, 'utf8')));
    expect(config.targets.map((t) => [t.name, t.crl, t.ocsp])).toEqual([
      ['intranet.example.com:443', 'distribution_point', 'none'], ['shop.example.com:443', 'distribution_point', 'responder'], ['www.example.org:443', 'none', undefined],
    ]);
  });
});
