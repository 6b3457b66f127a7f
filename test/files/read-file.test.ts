import { execFileSync, spawnSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rename, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readCertificateFile, type FileRead } from '../../src/files/read-file';

const DIST_READER = join(__dirname, '..', '..', 'dist', 'files', 'read-file.js');

describe('readCertificateFile', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'certexp-read-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const bytesOf = (read: FileRead): string => {
    if (!read.ok || !('bytes' in read)) throw new Error(`expected bytes, got ${JSON.stringify(read)}`);
    return read.bytes.toString();
  };

  it('reads a file, and reports it unchanged while its version stays the same', async () => {
    const path = join(dir, 'tls.crt');
    await writeFile(path, 'first');
    const first = await readCertificateFile(path, undefined);
    expect(bytesOf(first)).toBe('first');
    expect(await readCertificateFile(path, first.ok ? first.version : '')).toEqual({ ok: true, unchanged: true, version: first.ok ? first.version : '' });
  });

  it('reads again after an atomic replacement (a new inode) and after an edit in place', async () => {
    const path = join(dir, 'tls.crt');
    await writeFile(path, 'first');
    const first = await readCertificateFile(path, undefined);
    await writeFile(join(dir, 'next'), 'second');
    await rename(join(dir, 'next'), path);
    const second = await readCertificateFile(path, first.ok ? first.version : undefined);
    expect(bytesOf(second)).toBe('second');
    await writeFile(path, 'third!');
    await utimes(path, new Date(), new Date(Date.now() + 5000));
    expect(bytesOf(await readCertificateFile(path, second.ok ? second.version : undefined))).toBe('third!');
  });

  it('reports a missing file and a dangling link as not_found', async () => {
    expect(await readCertificateFile(join(dir, 'missing.crt'), undefined)).toEqual({ ok: false, reason: 'not_found', error: 'cannot open: ENOENT' });
    await symlink(join(dir, 'gone'), join(dir, 'dangling.crt'));
    expect(await readCertificateFile(join(dir, 'dangling.crt'), 'an old version')).toMatchObject({ ok: false, reason: 'not_found' });
    expect(await readCertificateFile(join(dir, 'missing.crt', 'below'), undefined)).toMatchObject({ ok: false, reason: 'not_found' });
  });

  it('reports a directory as not_a_file', async () => {
    await mkdir(join(dir, 'tls.crt'));
    expect(await readCertificateFile(join(dir, 'tls.crt'), undefined)).toEqual({ ok: false, reason: 'not_a_file', error: 'not a regular file' });
  });

  it('reports a FIFO as not_a_file without waiting for a writer', async () => {
    execFileSync('mkfifo', [join(dir, 'pipe.crt')]);
    const started = Date.now();
    expect(await readCertificateFile(join(dir, 'pipe.crt'), undefined)).toMatchObject({ ok: false, reason: 'not_a_file' });
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('reports a file over the size limit as too_large, and reads one at the limit', async () => {
    await writeFile(join(dir, 'big'), Buffer.alloc(101, 0x41));
    expect(await readCertificateFile(join(dir, 'big'), undefined, 100)).toEqual({ ok: false, reason: 'too_large', error: '101 bytes, more than 100' });
    await writeFile(join(dir, 'fits'), Buffer.alloc(100, 0x41));
    expect(bytesOf(await readCertificateFile(join(dir, 'fits'), undefined, 100))).toHaveLength(100);
  });

  it('reports a loop of links as read_failed', async () => {
    await symlink(join(dir, 'b'), join(dir, 'a'));
    await symlink(join(dir, 'a'), join(dir, 'b'));
    expect(await readCertificateFile(join(dir, 'a'), undefined)).toEqual({ ok: false, reason: 'read_failed', error: 'cannot open: ELOOP' });
  });

  // Root reads any file whatever its mode, and the tests run as root here: the built reader then
  // runs in a child process as root without the capabilities that override file modes (setpriv),
  // which the kernel does refuse. Not as another user: the checkout may sit in a directory only
  // root can enter (mktemp -d makes it 0700).
  it('reports a file the user may not read as permission_denied', async () => {
    const path = join(dir, 'secret.crt');
    await writeFile(path, 'x');
    await chmod(path, 0o000);
    const asRoot = process.getuid?.() === 0;
    const script = `require(${JSON.stringify(DIST_READER)}).readCertificateFile(${JSON.stringify(path)}).then((r) => process.stdout.write(JSON.stringify(r)))`;
    const command = asRoot
      ? ['setpriv', ['--inh-caps=-all', '--bounding-set=-dac_override,-dac_read_search', '--', process.execPath, '-e', script]] as const
      : [process.execPath, ['-e', script]] as const;
    const child = spawnSync(command[0], command[1], { encoding: 'utf8', timeout: 20_000 });
    expect(child.stderr).toBe('');
    expect(JSON.parse(child.stdout)).toEqual({ ok: false, reason: 'permission_denied', error: 'cannot open: EACCES' });
  });
});
