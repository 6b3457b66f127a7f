/**
 * Turns TypeBox's validation errors into findings with messages written for the person editing
 * certexp.yml: what was expected, what was found, and for unknown keys which keys exist.
 */
import { KindGuard, type TSchema } from '@sinclair/typebox';
import { Value, ValueErrorType, type ValueError } from '@sinclair/typebox/value';
import { DURATION_EXAMPLES, parseDuration, POSITIVE_DURATION_PATTERN } from './duration';
import type { Finding, PathSegment } from './yaml-locator';

/** How a value looks in a message: strings quoted, so an empty or numeric-looking string shows. */
export function showValue(value: unknown): string {
  if (value === null || value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  return typeof value;
}

export function durationMessage(value: unknown): string {
  if (typeof value === 'string' && parseDuration(value) === 0) {
    return `duration ${showValue(value)} must be greater than zero (examples: ${DURATION_EXAMPLES})`;
  }
  return `invalid duration ${showValue(value)} (examples: ${DURATION_EXAMPLES})`;
}

function isDuration(schema: TSchema): boolean {
  return KindGuard.IsString(schema) && schema.pattern === POSITIVE_DURATION_PATTERN;
}

function expectation(schema: TSchema): string {
  if (KindGuard.IsInteger(schema)) {
    const { minimum, maximum } = schema;
    return minimum !== undefined && maximum !== undefined ? `an integer from ${minimum} to ${maximum}` : 'an integer';
  }
  if (KindGuard.IsString(schema)) return schema.minLength === 1 ? 'a non-empty string' : 'a string';
  if (KindGuard.IsBoolean(schema)) return 'true or false';
  if (KindGuard.IsArray(schema)) return schema.minItems === 1 ? 'a non-empty list' : 'a list';
  if (KindGuard.IsRecord(schema)) return 'a mapping';
  if (KindGuard.IsObject(schema)) return `a mapping with keys ${Object.keys(schema.properties).join(', ')}`;
  if (KindGuard.IsUnion(schema) && schema.anyOf.every((s) => KindGuard.IsLiteral(s))) {
    return `one of ${schema.anyOf.map((s) => JSON.stringify(KindGuard.IsLiteral(s) ? s.const : null)).join(', ')}`;
  }
  return 'a different value';
}

/** JSON Pointer segments, with indexes as numbers wherever the data at that point is a list. */
function toPath(pointer: string, data: unknown): PathSegment[] {
  if (pointer === '') return [];
  const path: PathSegment[] = [];
  let current = data;
  for (const raw of pointer.slice(1).split('/')) {
    const segment = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(current)) {
      const index = Number(segment);
      path.push(index);
      current = current[index] as unknown;
    } else {
      path.push(segment);
      current = typeof current === 'object' && current !== null ? (current as Record<string, unknown>)[segment] : undefined;
    }
  }
  return path;
}

function toFinding(error: ValueError, data: unknown): Finding {
  const path = toPath(error.path, data);
  const last = path[path.length - 1];
  switch (error.type) {
    case ValueErrorType.ObjectAdditionalProperties: {
      const allowed = KindGuard.IsObject(error.schema) ? Object.keys(error.schema.properties).join(', ') : '';
      return { path, at: 'key', message: `unknown key "${String(last)}" (allowed: ${allowed})` };
    }
    case ValueErrorType.ObjectRequiredProperty:
      return { path: path.slice(0, -1), at: 'value', message: `missing required key "${String(last)}"` };
    default:
      if (isDuration(error.schema)) return { path, at: 'value', message: durationMessage(error.value) };
      return { path, at: 'value', message: `expected ${expectation(error.schema)}, got ${showValue(error.value)}` };
  }
}

/**
 * Every schema violation in data, at most one per path: TypeBox may report a missing key twice
 * (required, then wrong type) and a number both below and above its limits.
 */
export function schemaFindings(schema: TSchema, data: unknown): Finding[] {
  const seen = new Set<string>();
  const findings: Finding[] = [];
  for (const error of Value.Errors(schema, data)) {
    if (seen.has(error.path)) continue;
    seen.add(error.path);
    findings.push(toFinding(error, data));
  }
  return findings;
}
