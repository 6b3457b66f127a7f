import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { expandGlobs, patternProblem, segmentMatcher } from '../../src/files/glob';
import { createSecretVolume } from '../support/secret-volume';

describe('segmentMatcher', () => {
  it.each([
    ['*.pem', 'a.pem', true],
    ['*.pem', 'a.pem.bak', false],
    ['*', 'tls.crt', true],
    ['*', '..data', false],
    ['*', '.hidden', false],
    ['.*', '.hidden', true],
    ['..data', '..data', true],
    ['tls.?rt', 'tls.crt', true],
    ['tls.?rt', 'tls.rt', false],
    ['cert[1].pem', 'cert[1].pem', true],
    ['cert[1].pem', 'cert1.pem', false],
    ['a+b(c).pem', 'a+b(c).pem', true],
  ])('%s against %s: %s', (segment, name, expected) => {
    expect(segmentMatcher(segment)(name)).toBe(expected);
  });
});

describe('patternProblem', () => {
  it('accepts ** as a whole segment and refuses it inside one', () => {
    expect(patternProblem('/etc/certs/**/*.pem')).toBeUndefined();
    expect(patternProblem('/etc/certs/**')).toBeUndefined();
    expect(patternProblem('/etc/certs/a**/x.pem')).toMatch(/"\*\*" must be a whole path segment/);
  });
});

describe('expandGlobs on a real tree', () => {
  let root: string;
  const file = async (path: string, text = 'x'): Promise<void> => {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), text);
  };

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'certexp-glob-'));
  });

  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('matches * and ? within one directory, skipping dot-files and directories', async () => {
    await file('certs/a.pem');
    await file('certs/b.pem');
    await file('certs/.hidden.pem');
    await file('certs/notes.txt');
    await mkdir(join(root, 'certs/dir.pem'));
    const result = await expandGlobs([join(root, 'certs/*.pem'), join(root, 'certs/?.txt')]);
    expect(result.files).toEqual([join(root, 'certs/a.pem'), join(root, 'certs/b.pem')]);
    expect(result.errors).toEqual([]);
    expect(result.directories).toEqual([join(root, 'certs')]);
  });

  it('matches ** at any depth, zero directories included, but never below a dot-directory', async () => {
    await file('certs/top.pem');
    await file('certs/a/one.pem');
    await file('certs/a/b/c/deep.pem');
    await file('certs/.git/objects/x.pem');
    await file('certs/a/b/skip.crt');
    const result = await expandGlobs([join(root, 'certs/**/*.pem')]);
    expect(result.files).toEqual(['certs/a/b/c/deep.pem', 'certs/a/one.pem', 'certs/top.pem'].map((p) => join(root, p)));
    const trailing = await expandGlobs([join(root, 'certs/a/**')]);
    expect(trailing.files).toEqual(['certs/a/b/c/deep.pem', 'certs/a/b/skip.crt', 'certs/a/one.pem'].map((p) => join(root, p)));
  });

  it('returns a literal path as it is, existing or not, and names its directory for watching', async () => {
    const result = await expandGlobs([join(root, 'missing/tls.crt')]);
    expect(result.files).toEqual([join(root, 'missing/tls.crt')]);
    expect(result.directories).toEqual([join(root, 'missing')]);
  });

  it('matches nothing, without an error, where the directory does not exist', async () => {
    const result = await expandGlobs([join(root, 'nowhere/*/tls.crt')]);
    expect(result).toEqual({ files: [], directories: [], errors: [] });
  });

  it('sees each certificate of a Kubernetes secret volume once, through its ..data links', async () => {
    for (const secret of ['shop', 'api']) await createSecretVolume(join(root, 'tls', secret), { 'tls.crt': 'c', 'tls.key': 'k' });
    const star = await expandGlobs([join(root, 'tls/*/tls.crt')]);
    expect(star.files).toEqual([join(root, 'tls/api/tls.crt'), join(root, 'tls/shop/tls.crt')]);
    const deep = await expandGlobs([join(root, 'tls/**/*.crt')]);
    expect(deep.files).toEqual(star.files);
    const all = await expandGlobs([join(root, 'tls/shop/*')]);
    expect(all.files).toEqual([join(root, 'tls/shop/tls.crt'), join(root, 'tls/shop/tls.key')]);
    const literal = await expandGlobs([join(root, 'tls/shop/..data/tls.crt')]);
    expect(literal.files).toEqual([join(root, 'tls/shop/..data/tls.crt')]);
  });

  it('follows a linked directory, entering each real directory once: no loop, no file twice', async () => {
    await file('real/sub/one.pem');
    await symlink(join(root, 'real/sub'), join(root, 'real/link'));
    await symlink(join(root, 'real'), join(root, 'real/sub/loop'));
    const result = await expandGlobs([join(root, 'real/**/*.pem')]);
    // link and sub are one directory; the walk meets link first, in name order.
    expect(result.files).toEqual([join(root, 'real/link/one.pem')]);
    expect(result.errors).toEqual([]);
  });

  it('keeps a dangling link among the matches, for the reader to report as not found', async () => {
    await mkdir(join(root, 'certs'));
    await symlink(join(root, 'gone.pem'), join(root, 'certs/dangling.pem'));
    const result = await expandGlobs([join(root, 'certs/*.pem')]);
    expect(result.files).toEqual([join(root, 'certs/dangling.pem')]);
  });

  it('stops at the file limit with too_many_files, keeping the first files in name order', async () => {
    for (let i = 0; i < 12; i++) await file(`many/f${String(i).padStart(2, '0')}.pem`);
    const result = await expandGlobs([join(root, 'many/*.pem')], { maxFiles: 5, maxDirectories: 100, maxDepth: 8 });
    expect(result.files).toEqual([0, 1, 2, 3, 4].map((i) => join(root, `many/f0${i}.pem`)));
    expect(result.errors).toEqual(['too_many_files']);
  });

  it('stops at the directory limit and the depth limit', async () => {
    for (let i = 0; i < 6; i++) await file(`wide/d${i}/x.pem`);
    const wide = await expandGlobs([join(root, 'wide/**/*.pem')], { maxFiles: 100, maxDirectories: 3, maxDepth: 8 });
    expect(wide.errors).toEqual(['too_many_directories']);
    expect(wide.files.length).toBeLessThan(6);
    await file('deep/1/2/3/4/x.pem');
    const deep = await expandGlobs([join(root, 'deep/**/*.pem')], { maxFiles: 100, maxDirectories: 100, maxDepth: 2 });
    expect(deep.files).toEqual([]);
  });

  it('reports one file matched by two patterns once', async () => {
    await file('certs/a.pem');
    const result = await expandGlobs([join(root, 'certs/*.pem'), join(root, 'certs/a.pem'), join(root, 'certs/**')]);
    expect(result.files).toEqual([join(root, 'certs/a.pem')]);
  });
});
