import type { Clock } from '../clock';
import type { ParsedCertificate } from '../pki/certificate';
import { crlDistributionPoints, crlVerdict, readCrl, type CheckedCrl, type CrlVerdict, type DistributionPoint } from '../pki/crl';
import type { CrlFetcher } from './crl-fetcher';
import { ExpiringCache } from './expiring-cache';

export interface CrlClientOptions {
  readonly fetch: CrlFetcher;
  readonly clock: Clock;
  /** How long a failed fetch (or a stale CRL) is remembered before the server is asked again; default 1 minute. */
  readonly retryAfterErrorMs?: number;
  /** How long a CRL without nextUpdate is reused; default 1 hour. */
  readonly withoutNextUpdateMs?: number;
  /** Revoked serials kept across all cached CRLs; the oldest CRLs go first. Default 2,000,000 (a few hundred MB at most). */
  readonly capacity?: number;
}

type Fetched = CheckedCrl | { readonly error: string };

/** The leaf's status and, unless it is an error, the URL of the CRL that gave it. */
export type CrlAnswer = CrlVerdict & { readonly url?: string };

/**
 * Fetches the CRL of a leaf's cRLDistributionPoints and keeps it, checked against the issuer,
 * until its nextUpdate: a distribution point is fetched about once per CRL, however many leaves
 * it covers and however often their targets are probed. Probes needing the same CRL at once share
 * one download. A server that is down gives an `error` verdict, remembered briefly so that a
 * fleet does not hammer it; nothing here throws.
 */
export class CrlClient {
  private readonly crls: ExpiringCache<Fetched>;

  constructor(private readonly options: CrlClientOptions) {
    const retryAfterErrorMs = options.retryAfterErrorMs ?? 60_000;
    const withoutNextUpdateMs = options.withoutNextUpdateMs ?? 3_600_000;
    // A CRL costs the cache its revoked serials.
    this.crls = new ExpiringCache(options.clock, options.capacity ?? 2_000_000, (fetched, now) => {
      if ('error' in fetched) return { until: now + retryAfterErrorMs, weight: 1 };
      const fresh = fetched.nextUpdate === undefined || fetched.nextUpdate > now;
      return { until: !fresh ? now + retryAfterErrorMs : fetched.nextUpdate ?? now + withoutNextUpdateMs, weight: Math.max(1, fetched.revoked.size) };
    });
  }

  /** The leaf's status from its CRL; undefined when the leaf names no distribution point. */
  async status(leaf: ParsedCertificate, issuer: ParsedCertificate, signal: AbortSignal): Promise<CrlAnswer | undefined> {
    const { http, unsupported } = crlDistributionPoints(leaf);
    if (http.length === 0) {
      return unsupported.length === 0 ? undefined
        : { status: 'error', error: `no http:// CRL distribution point to fetch (${unsupported.join(', ')}: not supported)` };
    }
    let answer: CrlAnswer = { status: 'error', error: 'no distribution point was fetched' };
    for (const point of http) {
      const fetched = await this.crl(point, issuer, signal);
      const verdict: CrlVerdict = 'error' in fetched ? { status: 'error', error: fetched.error } : crlVerdict(fetched, leaf, this.options.clock.now());
      if (verdict.status !== 'error') return { ...verdict, url: point.url };
      answer = { status: 'error', error: `${point.url}: ${verdict.error}` };
      if (signal.aborted) break;
    }
    return answer;
  }

  /** The checked CRL of one point, from the cache or fetched now; the issuer is part of the key, since it is what the CRL is checked against. */
  private crl(point: DistributionPoint, issuer: ParsedCertificate, signal: AbortSignal): Promise<Fetched> {
    return this.crls.get(`${point.url} ${issuer.fingerprintSha256}`, () => this.download(point, issuer, signal));
  }

  private async download(point: DistributionPoint, issuer: ParsedCertificate, signal: AbortSignal): Promise<Fetched> {
    let body: Buffer;
    try {
      body = await this.options.fetch(point.url, signal);
    } catch (error) {
      // The fetcher's messages start with the URL; status() adds it, so it is taken off here.
      const message = error instanceof Error ? error.message : String(error);
      return { error: message.startsWith(`${point.url}: `) ? message.slice(point.url.length + 2) : message };
    }
    return readCrl(body, issuer, point.names);
  }
}
