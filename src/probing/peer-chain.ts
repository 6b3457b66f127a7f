import type { DetailedPeerCertificate, TLSSocket } from 'node:tls';

/** Longer chains are hostile or broken; the first certificates are what verification needs. */
export const MAX_CHAIN_LENGTH = 64;

/** How many distinct chains to remember; above the number of targets, so a steady fleet never walks twice. */
const DEFAULT_CAPACITY = 100_000;

/**
 * The certificate chain a server presented, exactly as sent, at no native-memory cost per probe.
 *
 * Only getPeerX509Certificate() gives the chain as sent: order, duplicates, certificates that
 * issue nothing, an intermediate whose keyUsage forbids signing. In Node 20 it also takes each
 * certificate out of the session's peer chain and never frees the issuers (a second call finds
 * the chain empty): about 7 KB of native memory per probe of a two-certificate chain, 1.5 GB a
 * day at 10,000 targets a minute. getPeerCertificate(true) walks a copy and leaks nothing, but
 * keeps only the certificates that link by issuer, in issuing order.
 *
 * So each probe reads the linked chain, and the exact one only the first time that linked chain
 * is seen: a server presents the same chain probe after probe, and when it changes (a renewal, a
 * lost intermediate) the linked chain changes with it. The leak is then bounded by the number
 * of distinct chains, not of probes.
 */
export class PeerChains {
  /** By linked chain: the exact chain when it differs from the linked one, or 'same'. */
  private readonly seen = new Map<string, readonly Buffer[] | 'same'>();

  constructor(private readonly capacity = DEFAULT_CAPACITY) {}

  /** DER of every certificate the server presented, in its order, leaf first. */
  take(socket: TLSSocket): Buffer[] {
    const linked = linkedChain(socket);
    const key = linked.map((cert) => cert.fingerprint256).join(',');
    const known = this.seen.get(key);
    if (known !== undefined) {
      // Map keeps insertion order: re-inserting makes this the most recently used chain.
      this.seen.delete(key);
      this.seen.set(key, known);
      return known === 'same' ? linked.map((cert) => cert.raw) : [...known];
    }
    const exact = exactChain(socket);
    const same = exact.length === linked.length && exact.every((der, i) => der.equals(linked[i]?.raw ?? Buffer.alloc(0)));
    this.seen.set(key, same ? 'same' : exact);
    if (this.seen.size > this.capacity) {
      const oldest = this.seen.keys().next();
      if (oldest.done !== true) this.seen.delete(oldest.value);
    }
    return exact;
  }
}

interface LinkedCertificate {
  readonly raw: Buffer;
  readonly fingerprint256: string;
}

/** The leaf and its issuers among the presented certificates, as Node links them; a self-issued last one is its own issuer. */
function linkedChain(socket: TLSSocket): LinkedCertificate[] {
  const chain: LinkedCertificate[] = [];
  // At run time an empty object when the server sent no certificate, and issuerCertificate may be absent.
  let cert: Partial<DetailedPeerCertificate> | undefined = socket.getPeerCertificate(true);
  while (cert?.raw !== undefined && chain.length < MAX_CHAIN_LENGTH) {
    chain.push({ raw: cert.raw, fingerprint256: cert.fingerprint256 ?? '' });
    const issuer: Partial<DetailedPeerCertificate> | undefined = cert.issuerCertificate;
    if (issuer === cert) break;
    cert = issuer;
  }
  return chain;
}

/** The presented stack in its order; empties the session's chain (see PeerChains), so at most once per socket. */
function exactChain(socket: TLSSocket): Buffer[] {
  const chain: Buffer[] = [];
  for (let cert = socket.getPeerX509Certificate(); cert !== undefined && chain.length < MAX_CHAIN_LENGTH; cert = cert.issuerCertificate) {
    chain.push(cert.raw);
  }
  return chain;
}
