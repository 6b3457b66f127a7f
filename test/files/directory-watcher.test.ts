import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { DirectoryWatcher } from '../../src/files/directory-watcher';
import { waitFor } from '../support/daemon-harness';
import { createSecretVolume, updateSecretVolume } from '../support/secret-volume';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('DirectoryWatcher on real directories', () => {
  let root: string;
  let calls: number;
  let watcher: DirectoryWatcher;
  const logged: string[] = [];
  const log = pino({ level: 'debug' }, { write: (line: string) => { logged.push(line); } });
  const make = (maxDirectories = 16): DirectoryWatcher => new DirectoryWatcher(() => { calls++; }, { debounceMs: 100, maxDirectories, log, source: 'test' });

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'certexp-watch-'));
    calls = 0;
    logged.length = 0;
    watcher = make();
  });

  afterEach(async () => {
    watcher.close();
    await rm(root, { recursive: true, force: true });
  });

  it('calls back once for a burst of changes, after the debounce', async () => {
    await watcher.watch([root]);
    for (let i = 0; i < 5; i++) await writeFile(join(root, `f${i}.pem`), 'x');
    await waitFor('a call', () => calls > 0, 5000);
    await sleep(300);
    expect(calls).toBe(1);
  });

  it('sees the kubelet\'s swap of ..data in a secret volume', async () => {
    const volume = join(root, 'shop');
    await createSecretVolume(volume, { 'tls.crt': 'old' });
    await watcher.watch([volume]);
    await updateSecretVolume(volume, { 'tls.crt': 'new' });
    await waitFor('a call after the swap', () => calls > 0, 5000);
  });

  it('watches a directory made again under the same path, after a new call', async () => {
    const dir = join(root, 'certs');
    await mkdir(dir);
    await watcher.watch([dir]);
    await rm(dir, { recursive: true });
    await mkdir(dir);
    await sleep(300);
    const before = calls;
    await watcher.watch([dir]);
    await writeFile(join(dir, 'a.pem'), 'x');
    await waitFor('a call from the new directory', () => calls > before, 5000);
  });

  it('stops watching what is no longer asked for, and everything once closed', async () => {
    const [a, b] = [join(root, 'a'), join(root, 'b')];
    await mkdir(a);
    await mkdir(b);
    await watcher.watch([a, b]);
    await watcher.watch([b]);
    await writeFile(join(a, 'x.pem'), 'x');
    await sleep(300);
    expect(calls).toBe(0);
    watcher.close();
    await writeFile(join(b, 'x.pem'), 'x');
    await sleep(300);
    expect(calls).toBe(0);
  });

  it('skips missing directories, and watches only up to its limit, saying so once', async () => {
    watcher = make(1);
    const [a, b] = [join(root, 'a'), join(root, 'b')];
    await mkdir(a);
    await mkdir(b);
    await watcher.watch([join(root, 'missing'), a, b]);
    await watcher.watch([a, b, join(root, 'c')]);
    expect(logged.filter((l) => l.includes('more directories than are watched'))).toHaveLength(1);
    await writeFile(join(b, 'x.pem'), 'x');
    await sleep(300);
    expect(calls).toBe(0);
    await writeFile(join(a, 'x.pem'), 'x');
    await waitFor('a call from the one watched directory', () => calls > 0, 5000);
  });
});
