import { rootCertificates } from 'node:tls';
import type { ParsedCertificate } from './certificate';
import type { CertificateCache } from './certificate-cache';
import { pemToDer } from './pem';

/**
 * Trust anchors indexed by subject. An anchor is a name and a key (RFC 5280 §6.1.1): a
 * presented certificate with an anchor's subject and key is that anchor, whatever its dates or
 * issuer — which is what makes an expired cross-signed copy of a trusted root harmless.
 */
export class TrustStore {
  private readonly bySubject = new Map<string, ParsedCertificate[]>();
  private readonly anchorKeys = new Set<string>();
  private readonly fingerprints = new Set<string>();

  constructor(readonly anchors: readonly ParsedCertificate[]) {
    for (const anchor of anchors) {
      this.fingerprints.add(anchor.fingerprintSha256);
      const key = anchorKey(anchor);
      if (this.anchorKeys.has(key)) continue;
      this.anchorKeys.add(key);
      const list = this.bySubject.get(anchor.subject.key);
      if (list === undefined) this.bySubject.set(anchor.subject.key, [anchor]);
      else list.push(anchor);
    }
  }

  get size(): number {
    return this.anchorKeys.size;
  }

  /** An issuer with an anchor's name and key is that anchor: its child's signature is checked with that key. */
  isAnchor(cert: ParsedCertificate): boolean {
    return this.anchorKeys.has(anchorKey(cert));
  }

  /**
   * The leaf is trusted as itself only when it is an anchor certificate byte for byte (a pinned
   * self-signed certificate): nothing above it would check its signature, SANs or extensions.
   */
  isAnchorCertificate(cert: ParsedCertificate): boolean {
    return this.fingerprints.has(cert.fingerprintSha256);
  }

  issuersOf(cert: ParsedCertificate): readonly ParsedCertificate[] {
    return this.bySubject.get(cert.issuer.key) ?? [];
  }

  with(extra: readonly ParsedCertificate[]): TrustStore {
    return extra.length === 0 ? this : new TrustStore([...this.anchors, ...extra]);
  }
}

function anchorKey(cert: ParsedCertificate): string {
  return `${cert.subject.key}\u0000${cert.spki.toString('base64')}`;
}

/** Node's bundled Mozilla roots, parsed with our own parser so they index like any other anchor. */
export function systemTrustStore(cache: CertificateCache): TrustStore {
  const anchors: ParsedCertificate[] = [];
  for (const pem of rootCertificates) {
    for (const der of pemToDer(pem)) {
      const parsed = cache.parse(der);
      if (parsed.ok) anchors.push(parsed.cert);
    }
  }
  return new TrustStore(anchors);
}
