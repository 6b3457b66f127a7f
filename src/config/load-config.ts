/**
 * certexp.yml to a validated, frozen Config, or a ConfigError listing every problem with its
 * line, column and key. Stages: syntax, then the schema, then the checks that need more than
 * one value or the file system. Later stages still run on the parts earlier ones accepted.
 */
import { readFile as fsReadFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { cachedCaFileReader, type ReadFile } from './ca-file';
import { ConfigSchema } from './config-schema';
import type { Config, FileSourceConfig, ProbeConfig, TargetConfig } from './config-types';
import { FileSourceResolver } from './resolve-files';
import { TargetResolver, type ResolveContext } from './resolve-targets';
import { cachedClientCertificateReader } from './tls-config';
import { schemaFindings } from './schema-findings';
import { fail, readYamlFile } from './yaml-file';
import type { Finding } from './yaml-locator';

const defaultReader: ReadFile = (path) => fsReadFile(path, 'utf8');

function present(key: string, value: unknown): Record<string, unknown> {
  return value === null || value === undefined ? {} : { [key]: value };
}

/**
 * The plain data TypeBox validates. A `defaults:`, `targets:`, `files:` or `probe:` left with
 * nothing under it (everything commented out) counts as absent, as Go's YAML decoding in Prometheus treats it.
 */
function toData(data: unknown): unknown {
  if (data === null || data === undefined) return {};
  if (typeof data !== 'object' || Array.isArray(data)) return data;
  const { defaults, targets, files, probe, ...rest } = data as Record<string, unknown>;
  return { ...rest, ...present('defaults', defaults), ...present('targets', targets), ...present('files', files), ...present('probe', probe) };
}

interface Resolved {
  readonly targets: TargetConfig[];
  readonly files: FileSourceConfig[];
  readonly probe: ProbeConfig | undefined;
  readonly findings: Finding[];
}

/** The schema, then the resolvers, over config data however it was written. */
async function resolveData(data: unknown, configDir: string, readFile: ReadFile, lineOf: ResolveContext['lineOf']): Promise<Resolved> {
  const findings = schemaFindings(ConfigSchema, data);
  const resolver = new TargetResolver({
    configDir,
    readCaFile: cachedCaFileReader(readFile),
    readClientCertificate: cachedClientCertificateReader(readFile),
    lineOf,
  });
  const sections = typeof data === 'object' && data !== null && !Array.isArray(data) ? (data as Record<string, unknown>) : {};
  const inherited = await resolver.defaults(sections.defaults);
  const targets: TargetConfig[] = [];
  if (Array.isArray(sections.targets)) {
    for (const [index, raw] of (sections.targets as unknown[]).entries()) {
      const target = await resolver.target(raw, index, inherited);
      if (target !== undefined) targets.push(target);
    }
  }
  const fileResolver = new FileSourceResolver(resolver, { configDir, readFile, lineOf });
  const files: FileSourceConfig[] = [];
  if (Array.isArray(sections.files)) {
    for (const [index, raw] of (sections.files as unknown[]).entries()) {
      const source = await fileResolver.source(raw, index, inherited);
      if (source !== undefined) files.push(source);
    }
  }
  const probe = await resolver.probe(sections.probe, inherited);
  return { targets, files, probe, findings: [...findings, ...resolver.findings] };
}

export async function loadConfig(file: string, readFile: ReadFile = defaultReader): Promise<Config> {
  const parsed = await readYamlFile(file, readFile, 'config file');
  const { locator } = parsed;
  const { targets, files, probe, findings } = await resolveData(toData(parsed.data), dirname(file), readFile, (path) => locator.valuePosition(path).line);
  const issues = findings.map((finding) => locator.issue(finding));
  if (issues.length > 0) fail(issues);
  return Object.freeze({ file, targets: Object.freeze(targets), files: Object.freeze(files), ...(probe === undefined ? {} : { probe }) });
}

/**
 * One target from keys given in code rather than in a file (`certexp check`'s flags), through
 * the same schema, checks and defaults as a config file's; relative paths are taken from `dir`.
 * The target, or what is wrong with it, by key path below `targets[0]`.
 */
export async function resolveTarget(raw: Readonly<Record<string, unknown>>, dir: string, readFile: ReadFile = defaultReader): Promise<TargetConfig | readonly Finding[]> {
  const { targets: [target], findings } = await resolveData({ targets: [raw] }, dir, readFile, () => 0);
  return findings.length > 0 || target === undefined ? findings : target;
}
