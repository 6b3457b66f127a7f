/**
 * The first stages every certexp YAML file goes through (certexp.yml and the web config): read,
 * parse, report syntax errors with their position, and turn the tree into plain data, with a
 * locator that maps paths in that data back to lines for the checks that follow.
 */
import { LineCounter, parseDocument, visit, type Document } from 'yaml';
import { errorCode, type ReadFile } from './ca-file';
import { ConfigError, type ConfigIssue } from './config-error';
import { YamlLocator } from './yaml-locator';

export interface YamlFile {
  /** What the document holds as plain JavaScript: null for an empty file. */
  readonly data: unknown;
  readonly locator: YamlLocator;
}

function byPosition(a: ConfigIssue, b: ConfigIssue): number {
  return a.line - b.line || a.column - b.column;
}

/** Throws every issue at once, in file order. */
export function fail(issues: ConfigIssue[]): never {
  throw new ConfigError(issues.sort(byPosition));
}

function toData(doc: Document, locator: YamlLocator): unknown {
  try {
    return doc.toJS({ maxAliasCount: 100 });
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
}

/** `what` names the file in the message when it cannot be read: "config file", "web config file". */
export async function readYamlFile(file: string, readFile: ReadFile, what: string): Promise<YamlFile> {
  let text: string;
  try {
    text = await readFile(file);
  } catch (error) {
    fail([{ file, line: 1, column: 1, key: '(root)', message: `cannot read ${what}: ${errorCode(error)}` }]);
  }

  const lineCounter = new LineCounter();
  // merge: Go's YAML decoder honours `<<: *anchor`, and Prometheus configs use it.
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, merge: true });
  const locator = new YamlLocator(file, doc, lineCounter);
  // After a syntax error the tree is a guess; checking it would only add noise.
  if (doc.errors.length > 0) fail(doc.errors.map((error) => locator.issueAt(error.pos[0], '(root)', error.message)));
  return { data: toData(doc, locator), locator };
}
