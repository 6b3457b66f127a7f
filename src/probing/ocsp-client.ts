import type { Clock } from '../clock';
import type { ParsedCertificate } from '../pki/certificate';
import { buildOcspRequest, checkOcspResponse, ocspResponderUrls, type OcspVerdict } from '../pki/ocsp';
import { ExpiringCache } from './expiring-cache';
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

/**
 * Asks a leaf's OCSP responder (authorityInfoAccess) for its status, and keeps each answer until
 * its nextUpdate: a responder is asked about a certificate about once per validity window of its
 * answers, however many targets serve that certificate and however often they are probed.
 * Probes asking at once share one request. A responder that is down gives an `error` verdict,
 * remembered briefly so that a fleet does not hammer it; nothing here throws.
 */
export class OcspClient {
  private readonly answers: ExpiringCache<OcspVerdict>;

  constructor(private readonly options: OcspClientOptions) {
    const retryAfterErrorMs = options.retryAfterErrorMs ?? 60_000;
    const withoutNextUpdateMs = options.withoutNextUpdateMs ?? 3_600_000;
    this.answers = new ExpiringCache(options.clock, options.capacity ?? 50_000, (verdict, now) => ({
      until: verdict.status === 'error' ? now + retryAfterErrorMs : verdict.nextUpdate ?? now + withoutNextUpdateMs,
      weight: 1,
    }));
  }

  /** The leaf's status from its responder; undefined when the leaf names no http responder. */
  async status(leaf: ParsedCertificate, issuer: ParsedCertificate, signal: AbortSignal): Promise<OcspVerdict | undefined> {
    const urls = ocspResponderUrls(leaf);
    if (urls.length === 0) return undefined;
    return this.answers.get(`${leaf.fingerprintSha256}/${issuer.fingerprintSha256}`, () => this.ask(urls, leaf, issuer, signal));
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
}
