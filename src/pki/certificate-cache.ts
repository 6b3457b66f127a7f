import { ownBuffer } from '../own-buffer';
import { MalformedCertificateError, parseCertificate, sha256Hex, type ParsedCertificate } from './certificate';

export type ParseResult =
  | { readonly ok: true; readonly cert: ParsedCertificate }
  | { readonly ok: false; readonly fingerprintSha256: string; readonly error: string };

/**
 * Parsed certificates by SHA-256 of their DER. A server presents the same chain every interval,
 * so parsing is paid once per distinct certificate, not once per probe. Malformed input is
 * cached too, so a hostile server cannot make us re-parse its garbage at full cost each time.
 */
export class CertificateCache {
  private readonly entries = new Map<string, ParseResult>();

  constructor(private readonly capacity = 50_000) {}

  get size(): number {
    return this.entries.size;
  }

  parse(der: Buffer): ParseResult {
    const fingerprint = sha256Hex(der);
    const hit = this.entries.get(fingerprint);
    if (hit !== undefined) {
      // Map keeps insertion order: re-inserting makes this the most recently used entry.
      this.entries.delete(fingerprint);
      this.entries.set(fingerprint, hit);
      return hit;
    }
    const result = parseUncached(der, fingerprint);
    this.entries.set(fingerprint, result);
    if (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next();
      if (oldest.done !== true) this.entries.delete(oldest.value);
    }
    return result;
  }
}

function parseUncached(der: Buffer, fingerprintSha256: string): ParseResult {
  try {
    // A peer certificate the prober read is a buffer of its own already, shared with its record of the chain.
    return { ok: true, cert: parseCertificate(ownBuffer(der)) };
  } catch (error) {
    if (error instanceof MalformedCertificateError) return { ok: false, fingerprintSha256, error: error.message };
    // pkijs/asn1js throw plain errors on some malformed input; any failure here is the input's fault.
    return { ok: false, fingerprintSha256, error: `not an X.509 certificate: ${String(error)}` };
  }
}
