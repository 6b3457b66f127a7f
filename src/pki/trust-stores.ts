import type { CertificateCache } from './certificate-cache';
import { systemTrustStore, TrustStore } from './trust-store';
import type { ParsedCertificate } from './certificate';

/**
 * Trust stores by content: the system roots plus a target's extra anchors. Targets sharing a
 * ca_file share one store, and the system roots are parsed once per process.
 */
export class TrustStores {
  private system: TrustStore | undefined;
  private readonly byAnchors = new Map<string, TrustStore>();

  constructor(private readonly cache: CertificateCache) {}

  /** The store for these extra anchors (DER); certificates that do not parse are returned as `rejected`. */
  forAnchors(extra: readonly Buffer[]): { store: TrustStore; rejected: number } {
    this.system ??= systemTrustStore(this.cache);
    const parsed: ParsedCertificate[] = [];
    let rejected = 0;
    for (const der of extra) {
      const result = this.cache.parse(der);
      if (result.ok) parsed.push(result.cert);
      else rejected++;
    }
    const key = parsed.map((c) => c.fingerprintSha256).join(',');
    let store = this.byAnchors.get(key);
    if (store === undefined) {
      store = this.system.with(parsed);
      this.byAnchors.set(key, store);
    }
    return { store, rejected };
  }

  /** Drops stores no target uses any more; called after a reload. */
  retain(keep: ReadonlySet<TrustStore>): void {
    for (const [key, store] of this.byAnchors) if (!keep.has(store)) this.byAnchors.delete(key);
  }
}
