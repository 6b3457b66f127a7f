import type { ParsedCertificate } from './certificate';
import type { VerifyPolicy } from './path-checks';
import type { CertificateCache } from './certificate-cache';
import type { ChainExpectations } from './expectations';
import type { SignatureVerifier } from './signature';
import type { TrustStore } from './trust-store';
import { verifyChain, type TimeWindow } from './verify-chain';
import type { VerifyFailureReason } from './verify-reasons';

export interface PresentedCertificate {
  /** Position in what the server sent; 0 is the leaf. */
  readonly depth: number;
  readonly fingerprintSha256: string;
  /** undefined when the DER did not parse; `error` says why. */
  readonly cert: ParsedCertificate | undefined;
  readonly error: string | undefined;
}

export interface ChainAnalysis {
  readonly presented: readonly PresentedCertificate[];
  readonly verified: boolean;
  readonly reasons: readonly VerifyFailureReason[];
  /** The path verification built, leaf first; empty when the leaf itself is malformed. */
  readonly path: readonly ParsedCertificate[];
  readonly trusted: boolean;
  /** Earliest notAfter on `path`; undefined when there is no path. */
  readonly earliestNotAfter: number | undefined;
  /** What was asked: the same question inside `stable` has this same answer. */
  readonly input: AnalyzeInput;
  readonly stable: TimeWindow;
}

export interface AnalyzeInput {
  /** Treated as immutable: the same array asked again is the same chain (see `analyze`'s `previous`). */
  readonly chain: readonly Buffer[];
  readonly trust: TrustStore;
  /** undefined: check no name. */
  readonly serverName: string | undefined;
  readonly at: number;
  readonly policy?: VerifyPolicy;
  readonly maxDepth?: number;
  /** Pins, allowed issuers, maximum lifetime: reported as pin_mismatch, issuer_not_allowed, validity_too_long. */
  readonly expectations?: ChainExpectations;
}

/** DER chain in, verdict out: parsing, path building and verification, with no I/O. */
export class ChainAnalyzer {
  constructor(private readonly cache: CertificateCache, private readonly signatures: SignatureVerifier) {}

  /**
   * `previous`: this target's last analysis. A server presents the same chain probe after probe;
   * asked the same question (the same chain array, trust store, name, policy and expectations)
   * at a time its verdict still holds, the previous analysis is the answer, at no cost.
   */
  analyze(input: AnalyzeInput, previous?: ChainAnalysis): ChainAnalysis {
    if (previous !== undefined && sameQuestion(previous.input, input) && previous.stable.from <= input.at && input.at < previous.stable.until) {
      return previous;
    }
    const presented = input.chain.map((der, depth): PresentedCertificate => {
      const parsed = this.cache.parse(der);
      return parsed.ok
        ? { depth, fingerprintSha256: parsed.cert.fingerprintSha256, cert: parsed.cert, error: undefined }
        : { depth, fingerprintSha256: parsed.fingerprintSha256, cert: undefined, error: parsed.error };
    });
    const usable = presented.flatMap((p) => (p.cert === undefined ? [] : [p.cert]));
    const leafParsed = presented[0]?.cert !== undefined;
    if (!leafParsed) {
      return {
        presented, verified: false, reasons: ['malformed_certificate'], path: [], trusted: false, earliestNotAfter: undefined,
        input, stable: { from: -Infinity, until: Infinity },
      };
    }
    const result = verifyChain({ ...input, presented: usable, signatures: this.signatures });
    // Any certificate that failed to parse fails the chain: the server is sending something broken.
    const reasons = usable.length === presented.length ? result.reasons : [...new Set([...result.reasons, 'malformed_certificate' as const])].sort();
    return { presented, ...result, reasons, verified: reasons.length === 0, input };
  }
}

function sameQuestion(a: AnalyzeInput, b: AnalyzeInput): boolean {
  return a.chain === b.chain && a.trust === b.trust && a.serverName === b.serverName && a.policy === b.policy
    && a.maxDepth === b.maxDepth && a.expectations === b.expectations;
}
