import type { ParsedCertificate } from './certificate';
import type { VerifyPolicy } from './path-checks';
import type { CertificateCache } from './certificate-cache';
import type { ChainExpectations } from './expectations';
import type { SignatureVerifier } from './signature';
import type { TrustStore } from './trust-store';
import { verifyChain } from './verify-chain';
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
}

export interface AnalyzeInput {
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

  analyze(input: AnalyzeInput): ChainAnalysis {
    const presented = input.chain.map((der, depth): PresentedCertificate => {
      const parsed = this.cache.parse(der);
      return parsed.ok
        ? { depth, fingerprintSha256: parsed.cert.fingerprintSha256, cert: parsed.cert, error: undefined }
        : { depth, fingerprintSha256: parsed.fingerprintSha256, cert: undefined, error: parsed.error };
    });
    const usable = presented.flatMap((p) => (p.cert === undefined ? [] : [p.cert]));
    const leafParsed = presented[0]?.cert !== undefined;
    if (!leafParsed) {
      return { presented, verified: false, reasons: ['malformed_certificate'], path: [], trusted: false, earliestNotAfter: undefined };
    }
    const result = verifyChain({ ...input, presented: usable, signatures: this.signatures });
    // Any certificate that failed to parse fails the chain: the server is sending something broken.
    const reasons = usable.length === presented.length ? result.reasons : [...new Set([...result.reasons, 'malformed_certificate' as const])].sort();
    return { presented, ...result, reasons, verified: reasons.length === 0 };
  }
}
