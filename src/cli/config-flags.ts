/**
 * The flags of `certexp check` and `certexp verify` that stand for config keys: the same names
 * with dashes, singular for lists given once per item. A problem the config code finds with one
 * is reported by its flag, so a person sees what to change on their command line.
 */
import { readExpectations } from '../config/expectations-config';
import type { ChainExpectations } from '../pki/expectations';
import type { Finding, PathSegment } from '../config/yaml-locator';

const FLAG_OF_KEY: Readonly<Record<string, string>> = {
  host: 'HOST', port: 'PORT', server_name: '--server-name', starttls: '--starttls', policy: '--policy',
  min_version: '--min-version', max_version: '--max-version', cert_file: '--cert-file', key_file: '--key-file',
  address: '--address', proxy_url: '--proxy-url', ocsp: '--ocsp', crl: '--crl',
  expected_fingerprints: '--expected-fingerprint', allowed_issuers: '--allowed-issuer', max_validity: '--max-validity',
};

/** `message` about the config key at the head of `path`, named by its flag. */
export function flagMessage(path: readonly PathSegment[], message: string): string {
  const [key] = path;
  const flag = typeof key === 'string' ? FLAG_OF_KEY[key] ?? key : undefined;
  return flag === undefined ? message : `${flag}: ${message}`;
}

/** A finding about `targets[0]` of a target resolved from flags, named by its flag. */
export function findingMessage(finding: Finding): string {
  return flagMessage(finding.path.slice(2), finding.message);
}

/** The expectation flags as config keys, absent when not given, so that config code reads them. */
export function expectationKeys(values: {
  readonly 'expected-fingerprint'?: readonly string[] | undefined;
  readonly 'allowed-issuer'?: readonly string[] | undefined;
  readonly 'max-validity'?: string | undefined;
}): Record<string, unknown> {
  return {
    ...(values['expected-fingerprint'] === undefined ? {} : { expected_fingerprints: values['expected-fingerprint'] }),
    ...(values['allowed-issuer'] === undefined ? {} : { allowed_issuers: values['allowed-issuer'] }),
    ...(values['max-validity'] === undefined ? {} : { max_validity: values['max-validity'] }),
  };
}

/** The expectation flags read as the config reads them; problems as messages naming the flag. */
export function readExpectationFlags(keys: Readonly<Record<string, unknown>>): { expectations: ChainExpectations; problems: string[] } {
  const problems: string[] = [];
  const expectations = readExpectations(keys, (key) => [key], {}, (path, message) => { problems.push(flagMessage(path, message)); });
  // The config's schema rejects a spelling that is no duration before readExpectations sees it.
  if (typeof keys.max_validity === 'string' && expectations.maxValidityMs === undefined && problems.length === 0) {
    problems.push(flagMessage(['max_validity'], `${JSON.stringify(keys.max_validity)} is not a duration such as 398d`));
  }
  return { expectations, problems };
}

/** The usage lines of the expectation flags, shared by check and verify. */
export const EXPECTATION_USAGE = `  --expected-fingerprint FP  the leaf (or its public key) must have this SHA-256 fingerprint;
                       may be given more than once (pin_mismatch otherwise)
  --allowed-issuer SUBJECT|FP  a CA on the path must have this subject ("CN=R11, O=Let's
                       Encrypt") or SHA-256; may be given more than once (issuer_not_allowed)
  --max-validity D     the leaf may be valid for at most this long, e.g. 398d (validity_too_long)`;
