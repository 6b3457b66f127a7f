import type { Clock } from '../clock';
import type { ParsedCertificate } from '../pki/certificate';
import { buildOcspRequest, checkOcspResponse, ocspResponderUrls, type OcspVerdict } from '../pki/ocsp';
import type { OcspFetcher } from './ocsp-fetcher';

export interface OcspClientOptions {
  readonly fetch: OcspFetcher;
  readonly clock: Clock;
  /** How long a failed query is remembered before the responder is asked again; default 1 minute. */
  readonly retryAfterErrorMs?: number;
  /** How long an answer without nextUpdate is reused; default 1 hour. */
  readonly withoutNextUpdateMs?: number;
  /** Answers kept; the oldest go first. Default 50,000, as many as the certificate cache. */
  readonly capacity?: number;
}

interface Entry {
  readonly verdict: OcspVerdict;
  /** Epoch milliseconds after which the responder is asked again. */
  readonly until: number;
}

/**
 * Asks a leaf's OCSP responder (authorityInfoAccess) for its status, and keeps each answer until
 * its nextUpdate: a responder is asked about a certificate about once per validity window of its
 * answers, however many targets serve that certificate and however often they are probed.
 * Probes asking at once share one request. A responder that is down gives an `error` verdict,
 * remembered briefly so that a fleet does not hammer it; nothing here throws.
 */
export class OcspClient {
  private readonly entries = new Map<string, Entry>();
  private readonly pending = new Map<string, Promise<OcspVerdict>>();
  private readonly retryAfterErrorMs: number;
  private readonly withoutNextUpdateMs: number;
  private readonly capacity: number;

  constructor(private readonly options: OcspClientOptions) {
    this.retryAfterErrorMs = options.retryAfterErrorMs ?? 60_000;
    this.withoutNextUpdateMs = options.withoutNextUpdateMs ?? 3_600_000;
    this.capacity = options.capacity ?? 50_000;
  }

  /** The leaf's status from its responder; undefined when the leaf names no http responder. */
  async status(leaf: ParsedCertificate, issuer: ParsedCertificate, signal: AbortSignal): Promise<OcspVerdict | undefined> {
    const urls = ocspResponderUrls(leaf);
    if (urls.length === 0) return undefined;
    const key = `${leaf.fingerprintSha256}/${issuer.fingerprintSha256}`;
    const cached = this.entries.get(key);
    if (cached !== undefined && this.options.clock.now() < cached.until) return cached.verdict;
    let query = this.pending.get(key);
    if (query === undefined) {
      query = this.ask(urls, leaf, issuer, signal).finally(() => { this.pending.delete(key); });
      this.pending.set(key, query);
    }
    const verdict = await query;
    this.remember(key, verdict);
    return verdict;
  }

  /** Each responder in turn until one gives an answer that is not an error. */
  private async ask(urls: readonly string[], leaf: ParsedCertificate, issuer: ParsedCertificate, signal: AbortSignal): Promise<OcspVerdict> {
    let verdict: OcspVerdict = { status: 'error', error: 'no responder was asked' };
    for (const url of urls) {
      const request = buildOcspRequest(leaf, issuer);
      try {
        const response = await this.options.fetch(url, request.der, signal);
        verdict = checkOcspResponse({ response, leaf, issuer, at: this.options.clock.now(), nonce: request.nonce });
        if (verdict.status !== 'error') return verdict;
        verdict = { status: 'error', error: `${url}: ${verdict.error}` };
      } catch (error) {
        verdict = { status: 'error', error: error instanceof Error ? error.message : String(error) };
      }
      if (signal.aborted) break;
    }
    return verdict;
  }

  private remember(key: string, verdict: OcspVerdict): void {
    const now = this.options.clock.now();
    const until = verdict.status === 'error' ? now + this.retryAfterErrorMs : verdict.nextUpdate ?? now + this.withoutNextUpdateMs;
    this.entries.delete(key);
    this.entries.set(key, { verdict, until });
    if (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next();
      if (oldest.done !== true) this.entries.delete(oldest.value);
    }
  }
}
