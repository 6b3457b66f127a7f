/**
 * expected_fingerprints, allowed_issuers and max_validity, in `defaults:` or on a target: the
 * operator's expectations of a chain (src/pki/expectations.ts). A key set on a target replaces the
 * default's value; an empty list switches that check off for the target.
 */
import { parseFingerprint, parseIssuerPattern, type ChainExpectations, type IssuerPattern } from '../pki/expectations';
import { parseDuration, POSITIVE_DURATION_PATTERN } from './duration';
import { durationMessage } from './schema-findings';
import type { PathSegment } from './yaml-locator';

export type Reporter = (path: readonly PathSegment[], message: string) => void;

const DURATION_SYNTAX = new RegExp(POSITIVE_DURATION_PATTERN);
const FINGERPRINT_HINT = '64 hex digits, colons allowed, as `openssl x509 -noout -fingerprint -sha256` prints it';

export type Parsed<T> = { readonly value: T } | { readonly error: string };

/** Each string of a list through `parse`; entries that are not strings were reported by the schema. */
export function parseList<T>(raw: unknown, path: readonly PathSegment[], report: Reporter, parse: (text: string) => Parsed<T>): readonly T[] | undefined {
  if (!Array.isArray(raw)) return undefined;
  const out: T[] = [];
  for (const [index, item] of (raw as unknown[]).entries()) {
    if (typeof item !== 'string') continue;
    const parsed = parse(item);
    if ('error' in parsed) report([...path, index], parsed.error);
    else out.push(parsed.value);
  }
  return Object.freeze(out);
}

function fingerprint(text: string): Parsed<string> {
  const value = parseFingerprint(text);
  return value === undefined ? { error: `${JSON.stringify(text)} is not a SHA-256 fingerprint (${FINGERPRINT_HINT})` } : { value };
}

function issuer(text: string): Parsed<IssuerPattern> {
  const pattern = parseIssuerPattern(text);
  return 'error' in pattern ? pattern : { value: pattern };
}

/** What these keys of `raw` say, on top of `inherited`; problems go to `report`. */
export function readExpectations(
  raw: Readonly<Record<string, unknown>>,
  at: (key: string) => PathSegment[],
  inherited: ChainExpectations,
  report: Reporter,
): ChainExpectations {
  const fingerprints = raw.expected_fingerprints === undefined
    ? inherited.fingerprints
    : parseList(raw.expected_fingerprints, at('expected_fingerprints'), report, fingerprint);
  const allowedIssuers = raw.allowed_issuers === undefined
    ? inherited.allowedIssuers
    : parseList(raw.allowed_issuers, at('allowed_issuers'), report, issuer);
  let maxValidityMs = raw.max_validity === undefined ? inherited.maxValidityMs : undefined;
  // A spelling the schema's pattern rejected has been reported; this catches amounts too large to be exact.
  if (typeof raw.max_validity === 'string' && DURATION_SYNTAX.test(raw.max_validity)) {
    maxValidityMs = parseDuration(raw.max_validity);
    if (maxValidityMs === undefined) report(at('max_validity'), durationMessage(raw.max_validity));
  }
  return Object.freeze({
    ...(fingerprints === undefined ? {} : { fingerprints }),
    ...(allowedIssuers === undefined ? {} : { allowedIssuers }),
    ...(maxValidityMs === undefined ? {} : { maxValidityMs }),
  });
}

/** True when no check would run: the target then carries no expectations at all. */
export function expectsNothing(expectations: ChainExpectations): boolean {
  return (expectations.fingerprints ?? []).length === 0 && (expectations.allowedIssuers ?? []).length === 0 && expectations.maxValidityMs === undefined;
}
