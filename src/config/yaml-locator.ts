/**
 * Maps a path in the parsed data (as TypeBox and the semantic checks see it) back to the YAML
 * node it came from, so every issue can name a line and a column.
 */
import { isAlias, isMap, isNode, isScalar, isSeq, type Document, type LineCounter, type Node, type Pair } from 'yaml';
import type { ConfigIssue } from './config-error';

export type PathSegment = string | number;

/** A problem before it has a position: unknown keys point at the key, everything else at the value. */
export interface Finding {
  readonly path: readonly PathSegment[];
  readonly at: 'key' | 'value';
  readonly message: string;
}

export interface Position {
  readonly line: number;
  readonly column: number;
}

/** `targets[2].port`, `defaults.interval`, or `(root)` for the document itself. */
export function formatKey(path: readonly PathSegment[]): string {
  if (path.length === 0) return '(root)';
  return path.map((segment, index) => (typeof segment === 'number' ? `[${segment}]` : index === 0 ? segment : `.${segment}`)).join('');
}

function keyText(key: unknown): string | undefined {
  if (isScalar(key)) return typeof key.value === 'symbol' ? undefined : String(key.value);
  return undefined;
}

export class YamlLocator {
  constructor(
    private readonly file: string,
    private readonly doc: Document,
    private readonly lineCounter: LineCounter,
  ) {}

  at(offset: number): Position {
    const { line, col } = this.lineCounter.linePos(offset);
    return { line, column: col };
  }

  issue(finding: Finding): ConfigIssue {
    const position = finding.at === 'key' ? this.keyPosition(finding.path) : this.valuePosition(finding.path);
    return { file: this.file, ...position, key: formatKey(finding.path), message: finding.message };
  }

  issueAt(offset: number, key: string, message: string): ConfigIssue {
    return { file: this.file, ...this.at(offset), key, message };
  }

  /** The value at path, or the deepest ancestor that exists (a missing key points at its mapping). */
  valuePosition(path: readonly PathSegment[]): Position {
    return this.positionOf(this.walk(path).node);
  }

  /** The key node of the last segment, so "unknown key" points at the misspelt word itself. */
  keyPosition(path: readonly PathSegment[]): Position {
    const { node, pair, complete } = this.walk(path);
    return complete && pair !== undefined && isNode(pair.key) ? this.positionOf(pair.key) : this.positionOf(node);
  }

  private positionOf(node: Node | undefined): Position {
    const start = node?.range?.[0];
    return start === undefined ? { line: 1, column: 1 } : this.at(start);
  }

  private walk(path: readonly PathSegment[]): { node: Node | undefined; pair?: Pair; complete: boolean } {
    let node: Node | undefined = isNode(this.doc.contents) ? this.doc.contents : undefined;
    let pair: Pair | undefined;
    for (const segment of path) {
      // Aliases are only followed to go deeper: a value given as `*anchor` is reported where the
      // alias is written, which is the line the person has to change.
      const container = isAlias(node) ? node.resolve(this.doc) : node;
      let next: unknown;
      if (isMap(container)) {
        pair = container.items.find((item) => keyText(item.key) === String(segment));
        // `key:` with nothing after it still has a null scalar; `? key` alone has no value node.
        next = pair === undefined ? undefined : isNode(pair.value) ? pair.value : pair.key;
      } else if (isSeq(container) && typeof segment === 'number') {
        pair = undefined;
        next = container.items[segment];
      }
      if (!isNode(next)) return { node, complete: false };
      node = next;
    }
    return pair === undefined ? { node, complete: true } : { node, pair, complete: true };
  }
}
