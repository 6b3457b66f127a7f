/**
 * Just enough of a Dockerfile interpreter to repeat the project's Dockerfile without a Docker
 * engine: each stage gets a directory as its filesystem, COPY honours .dockerignore, RUN runs
 * in the stage's WORKDIR with its ENV. The base image is not reproduced: RUN uses this
 * machine's Node.js and npm, whose major version the test compares with the image's tag.
 * Any instruction it does not know fails, so a change to the Dockerfile cannot slip past it.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

export interface Healthcheck {
  readonly options: Readonly<Record<string, string>>;
  readonly command: readonly string[];
}

export interface Stage {
  readonly name: string;
  readonly image: string;
  /** The stage's filesystem root. */
  readonly root: string;
  workdir: string;
  readonly env: Record<string, string>;
  user?: string;
  entrypoint: readonly string[];
  cmd: readonly string[];
  healthcheck?: Healthcheck;
  readonly exposed: number[];
}

export interface Instruction {
  readonly keyword: string;
  readonly args: string;
}

/** Instructions with comments dropped and backslash continuations joined. */
export function parseDockerfile(text: string): Instruction[] {
  const logical = text.split('\n').filter((line) => !/^\s*#/.test(line)).join('\n').replace(/\\\n/g, ' ');
  return logical.split('\n').filter((line) => line.trim() !== '').map((line) => {
    const match = /^\s*([A-Za-z]+)\s+(.*)$/.exec(line);
    if (match === null) throw new Error(`not an instruction: ${line}`);
    return { keyword: (match[1] ?? '').toUpperCase(), args: (match[2] ?? '').trim() };
  });
}

/** Docker's .dockerignore rules: the last pattern that matches a path or one of its parents decides. */
export function dockerIgnored(patterns: readonly string[], path: string): boolean {
  const toRegExp = (glob: string): RegExp => new RegExp(`^${glob.replace(/^\/+|\/+$/g, '').split('**').map((part) =>
    part.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')).join('.*')}$`);
  const candidates = path.split('/').map((_, i, parts) => parts.slice(0, i + 1).join('/'));
  let ignored = false;
  for (const raw of patterns) {
    const negated = raw.startsWith('!');
    const regexp = toRegExp(negated ? raw.slice(1) : raw);
    if (candidates.some((candidate) => regexp.test(candidate))) ignored = !negated;
  }
  return ignored;
}

function readPatterns(file: string): string[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').map((line) => line.trim()).filter((line) => line !== '' && !line.startsWith('#'));
}

function jsonArray(text: string, what: string): string[] {
  const value = JSON.parse(text) as unknown;
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) throw new Error(`${what}: want the exec (JSON) form`);
  return value;
}

/** `--flag=value` options in front of an instruction's arguments. */
function splitOptions(args: string): { options: Record<string, string>; rest: string } {
  const options: Record<string, string> = {};
  let rest = args;
  for (let match = /^--([a-z-]+)=(\S+)\s+/.exec(rest); match !== null; match = /^--([a-z-]+)=(\S+)\s+/.exec(rest)) {
    options[match[1] ?? ''] = match[2] ?? '';
    rest = rest.slice(match[0].length);
  }
  return { options, rest };
}

export interface BuildOptions {
  /** The build context (the repository). */
  readonly context: string;
  /** Where the stages' filesystems go. */
  readonly into: string;
  /** Added to every RUN's environment (npm's offline cache, say). */
  readonly runEnv?: Readonly<Record<string, string>>;
  readonly runTimeoutMs?: number;
}

/** Runs the build; returns every stage, the last one being the image. */
export function buildDockerfile(dockerfile: string, opts: BuildOptions): Stage[] {
  const ignore = readPatterns(join(opts.context, '.dockerignore'));
  const stages: Stage[] = [];
  const current = (): Stage => {
    const stage = stages[stages.length - 1];
    if (stage === undefined) throw new Error('instruction before FROM');
    return stage;
  };
  const inStage = (stage: Stage, path: string): string => join(stage.root, path.startsWith('/') ? path : join(stage.workdir, path));

  for (const { keyword, args } of parseDockerfile(readFileSync(dockerfile, 'utf8'))) {
    switch (keyword) {
      case 'FROM': {
        const [image = '', as, name] = args.split(/\s+/);
        const stageName = as?.toUpperCase() === 'AS' && name !== undefined ? name : String(stages.length);
        const root = join(opts.into, `stage-${stages.length}`);
        mkdirSync(root, { recursive: true });
        stages.push({ name: stageName, image, root, workdir: '/', env: {}, entrypoint: [], cmd: [], exposed: [] });
        break;
      }
      case 'WORKDIR':
        current().workdir = args;
        mkdirSync(inStage(current(), '.'), { recursive: true });
        break;
      case 'COPY': {
        const { options, rest } = splitOptions(`${args} `);
        const parts = rest.trim().split(/\s+/);
        const dest = parts.pop() ?? '';
        const from = options.from === undefined ? undefined : stages.find((s) => s.name === options.from);
        if (options.from !== undefined && from === undefined) throw new Error(`COPY --from=${options.from}: no such stage`);
        const intoDir = dest.endsWith('/') || parts.length > 1;
        for (const source of parts) {
          const sourcePath = from === undefined ? join(opts.context, source) : inStage(from, source);
          if (from === undefined && dockerIgnored(ignore, source)) throw new Error(`COPY ${source}: excluded by .dockerignore`);
          if (!existsSync(sourcePath)) throw new Error(`COPY ${source}: not found`);
          const target = intoDir ? join(inStage(current(), dest), source.split('/').pop() ?? source) : inStage(current(), dest);
          mkdirSync(dirname(target), { recursive: true });
          cpSync(sourcePath, target, {
            recursive: true,
            filter: (path) => from !== undefined || statSync(path).isDirectory() || !dockerIgnored(ignore, relative(opts.context, path)),
          });
        }
        break;
      }
      case 'RUN':
        execFileSync('sh', ['-c', args], {
          cwd: inStage(current(), '.'),
          env: { ...process.env, ...current().env, ...opts.runEnv },
          stdio: 'pipe',
          timeout: opts.runTimeoutMs ?? 120_000,
        });
        break;
      case 'ENV': {
        for (const [, key = '', value = ''] of args.matchAll(/(\w+)=("[^"]*"|\S+)/g)) current().env[key] = value.replace(/^"|"$/g, '');
        break;
      }
      case 'USER':
        current().user = args;
        break;
      case 'EXPOSE':
        current().exposed.push(...args.split(/\s+/).map((port) => Number(port.replace(/\/tcp$/, ''))));
        break;
      case 'HEALTHCHECK': {
        const { options, rest } = splitOptions(args);
        const command = /^CMD\s+(.*)$/.exec(rest);
        if (command === null) throw new Error('HEALTHCHECK: want HEALTHCHECK [options] CMD [...]');
        current().healthcheck = { options, command: jsonArray(command[1] ?? '', 'HEALTHCHECK') };
        break;
      }
      case 'ENTRYPOINT':
        current().entrypoint = jsonArray(args, 'ENTRYPOINT');
        break;
      case 'CMD':
        current().cmd = jsonArray(args, 'CMD');
        break;
      case 'LABEL':
        break;
      default:
        throw new Error(`the Dockerfile test does not know ${keyword}: teach test/deploy/dockerfile.ts what it does`);
    }
  }
  return stages;
}
