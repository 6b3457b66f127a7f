/**
 * certexp.yml to a validated, frozen Config, or a ConfigError listing every problem with its
 * line, column and key. Stages: syntax, then the schema, then the checks that need more than
 * one value or the file system. Later stages still run on the parts earlier ones accepted.
 */
import { readFile as fsReadFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { LineCounter, parseDocument, visit, type Document } from 'yaml';
import { cachedCaFileReader, errorCode, type ReadFile } from './ca-file';
import { ConfigError, type ConfigIssue } from './config-error';
import { ConfigSchema } from './config-schema';
import type { Config, TargetConfig } from './config-types';
import { TargetResolver } from './resolve-targets';
import { schemaFindings } from './schema-findings';
import { YamlLocator } from './yaml-locator';

const defaultReader: ReadFile = (path) => fsReadFile(path, 'utf8');

function byPosition(a: ConfigIssue, b: ConfigIssue): number {
  return a.line - b.line || a.column - b.column;
}

function fail(issues: ConfigIssue[]): never {
  throw new ConfigError(issues.sort(byPosition));
}

function present(key: string, value: unknown): Record<string, unknown> {
  return value === null || value === undefined ? {} : { [key]: value };
}

/**
 * The plain data TypeBox validates. A `defaults:` or `targets:` left with nothing under it
 * (everything commented out) counts as absent, as Go's YAML decoding in Prometheus treats it.
 */
function toData(doc: Document, locator: YamlLocator): unknown {
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (error) {
    // toJS throws for an alias to an anchor defined later (or never) and for alias bombs;
    // point at the first alias that does not resolve, if that is the cause.
    let offset = 0;
    visit(doc, {
      Alias(_key, node) {
        if (node.resolve(doc) !== undefined) return undefined;
        offset = node.range?.[0] ?? 0;
        return visit.BREAK;
      },
    });
    fail([locator.issueAt(offset, '(root)', error instanceof Error ? error.message : String(error))]);
  }
  if (data === null || data === undefined) return {};
  if (typeof data !== 'object' || Array.isArray(data)) return data;
  const { defaults, targets, ...rest } = data as Record<string, unknown>;
  return { ...rest, ...present('defaults', defaults), ...present('targets', targets) };
}

export async function loadConfig(file: string, readFile: ReadFile = defaultReader): Promise<Config> {
  let text: string;
  try {
    text = await readFile(file);
  } catch (error) {
    fail([{ file, line: 1, column: 1, key: '(root)', message: `cannot read config file: ${errorCode(error)}` }]);
  }

  const lineCounter = new LineCounter();
  // merge: Go's YAML decoder honours `<<: *anchor`, and Prometheus configs use it.
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, merge: true });
  const locator = new YamlLocator(file, doc, lineCounter);
  // After a syntax error the tree is a guess; checking it would only add noise.
  if (doc.errors.length > 0) fail(doc.errors.map((error) => locator.issueAt(error.pos[0], '(root)', error.message)));

  const data = toData(doc, locator);
  const findings = schemaFindings(ConfigSchema, data);

  const resolver = new TargetResolver({
    configDir: dirname(file),
    readCaFile: cachedCaFileReader(readFile),
    lineOf: (path) => locator.valuePosition(path).line,
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

  const issues = [...findings, ...resolver.findings].map((finding) => locator.issue(finding));
  if (issues.length > 0) fail(issues);
  return Object.freeze({ file, targets: Object.freeze(targets) });
}
