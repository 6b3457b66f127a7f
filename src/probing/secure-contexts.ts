import { createSecureContext, type SecureContext, type SecureVersion } from 'node:tls';
import type { Secret } from '../web/secret';

/** A client certificate the prober presents: the chain as PEM (leaf first) and its private key. */
export interface ClientCertificate {
  readonly certificatePem: string;
  readonly key: Secret;
}

export interface ContextOptions {
  readonly minVersion?: SecureVersion;
  readonly maxVersion?: SecureVersion;
  readonly clientCertificate?: ClientCertificate;
}

/**
 * The TLS client contexts probes use, built once per distinct setting: we verify ourselves, so a
 * context needs no trust store, and building one per connection (Node's default) would load the
 * root bundle each time. Security level 0 and TLS 1.0 unless a target narrows them: an observer
 * must complete the handshake with a weak server to report on it (weak_key, weak_signature, the
 * old protocol), not fail with handshake_failed.
 */
export class SecureContexts {
  private readonly plain = new Map<string, SecureContext>();
  /** Keyed by the config's certificate object, so a reload that replaces it lets the old contexts go. */
  private readonly withCertificate = new WeakMap<ClientCertificate, Map<string, SecureContext>>();

  get(options: ContextOptions): SecureContext {
    const minVersion = options.minVersion ?? 'TLSv1';
    const maxVersion = options.maxVersion ?? 'TLSv1.3';
    const key = `${minVersion} ${maxVersion}`;
    const certificate = options.clientCertificate;
    let contexts = certificate === undefined ? this.plain : this.withCertificate.get(certificate);
    if (contexts === undefined) {
      contexts = new Map();
      if (certificate !== undefined) this.withCertificate.set(certificate, contexts);
    }
    let context = contexts.get(key);
    if (context === undefined) {
      context = createSecureContext({
        ca: [],
        minVersion,
        maxVersion,
        ciphers: 'DEFAULT:@SECLEVEL=0',
        ...(certificate === undefined ? {} : { cert: certificate.certificatePem, key: certificate.key.reveal() }),
      });
      contexts.set(key, context);
    }
    return context;
  }
}
