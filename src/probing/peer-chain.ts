import { createHash } from 'node:crypto';
import type { DetailedPeerCertificate, TLSSocket } from 'node:tls';
import { InternPool } from '../intern-pool';
import { childrenOf, DerError, readElement } from '../pki/der';
import type { HandshakeRecorder } from './handshake-recorder';

/** Longer chains are hostile or broken; the first certificates are what verification needs. */
export const MAX_CHAIN_LENGTH = 64;

/** How many leaves to remember; above the number of targets, so a steady fleet never walks twice. */
const DEFAULT_CAPACITY = 100_000;

/**
 * How long a leaf's chain is taken on trust before the issuers are read again. A server that
 * drops or swaps an intermediate but keeps its leaf shows within this time (with the default
 * 5-minute interval, on the next probe); reading the issuers costs about 15 times what the leaf costs.
 */
export const CHAIN_RECHECK_MS = 5 * 60_000;

interface KnownChain {
  /** Digest of the linked chain (leaf and issuers as Node links them) this was taken under. */
  readonly linkedKey: string;
  /** The chain exactly as sent. */
  readonly presented: readonly Buffer[];
  readonly checkedAt: number;
  /** Where it was seen (the key's first part). */
  readonly endpoint: string;
}

/**
 * The certificate chain a server presented, exactly as sent, at no native-memory cost per probe
 * and little CPU.
 *
 * The chain as sent (order, duplicates, certificates that issue nothing, an intermediate whose
 * keyUsage forbids signing) is read from the handshake's own records (HandshakeRecorder), which
 * costs a quarter more CPU for that handshake. Node's only API for it, getPeerX509Certificate(),
 * takes each certificate out of the session's peer chain in Node 20 and never frees the issuers:
 * about 5 KB of native memory per issuer, 50 MB for the first probes of 10,000 targets. It is
 * left for records that cannot be read. getPeerCertificate(true) walks a copy and leaks nothing,
 * but keeps only the certificates that link by issuer, and builds a JavaScript object per
 * certificate with three digests: 0.4 ms a probe, a third of a handshake's CPU.
 *
 * So each probe reads just the leaf, from the session (a few microseconds). A leaf seen before at
 * the same endpoint gets the chain taken with it, re-read every CHAIN_RECHECK_MS; a new leaf, or a
 * recheck, reads the linked chain, and the exact one only when the linked chain is new: from the
 * recording when the handshake was recorded (the first at an endpoint is), else the prober runs
 * one more, recorded. A renewal changes the leaf and is seen at once. Behind one address,
 * load-balanced nodes that serve one leaf with different chains are told apart only as often as
 * the recheck runs.
 */
export class PeerChains {
  /** By endpoint and leaf. */
  private readonly byLeaf = new Map<string, KnownChain>();
  /** How many leaves are known at each endpoint. */
  private readonly leavesAt = new Map<string, number>();

  constructor(private readonly now: () => number, private readonly capacity = DEFAULT_CAPACITY) {}

  /** Whether the next handshake at `endpoint` should be recorded: none has been seen there, so its chain is surely new. */
  shouldRecord(endpoint: string): boolean {
    return !this.leavesAt.has(endpoint);
  }

  /**
   * DER of every certificate the server presented, in its order, leaf first. `endpoint` names
   * where the socket goes (address, port, name): two nodes may present one leaf with different
   * chains, one of them without its intermediate, and each must be judged on its own. Undefined
   * when the chain is new and the handshake was not recorded: the caller runs a recorded one.
   */
  take(socket: TLSSocket, endpoint: string, recording: HandshakeRecorder): readonly Buffer[];
  take(socket: TLSSocket, endpoint: string, recording?: HandshakeRecorder): readonly Buffer[] | undefined;
  take(socket: TLSSocket, endpoint: string, recording?: HandshakeRecorder): readonly Buffer[] | undefined {
    const leaf = sessionLeaf(socket);
    const leafKey = leaf === undefined ? undefined : `${endpoint}\u0000${createHash('sha256').update(leaf).digest('hex')}`;
    const known = leafKey === undefined ? undefined : this.byLeaf.get(leafKey);
    const now = this.now();
    // The same array each time: verification knows it has judged this very chain before.
    if (known !== undefined && now - known.checkedAt < CHAIN_RECHECK_MS) return known.presented;
    const linked = linkedChain(socket);
    const linkedKey = createHash('sha256').update(linked.map((cert) => cert.fingerprint256).join(',')).digest('base64');
    let presented = known?.linkedKey === linkedKey ? known.presented : undefined;
    if (presented === undefined) {
      if (recording === undefined) return undefined;
      presented = internIssuers(recording.presented(socket, MAX_CHAIN_LENGTH) ?? exactChain(socket));
    }
    if (leafKey !== undefined) this.remember(leafKey, { linkedKey, presented, checkedAt: now, endpoint });
    return presented;
  }

  private remember(leafKey: string, chain: KnownChain): void {
    // Map keeps insertion order: re-inserting makes this the most recently checked leaf.
    if (!this.byLeaf.delete(leafKey)) this.leavesAt.set(chain.endpoint, (this.leavesAt.get(chain.endpoint) ?? 0) + 1);
    this.byLeaf.set(leafKey, chain);
    if (this.byLeaf.size > this.capacity) {
      const oldest = this.byLeaf.entries().next();
      if (oldest.done !== true) this.forget(...oldest.value);
    }
  }

  private forget(leafKey: string, { endpoint }: KnownChain): void {
    this.byLeaf.delete(leafKey);
    const left = (this.leavesAt.get(endpoint) ?? 1) - 1;
    if (left > 0) this.leavesAt.set(endpoint, left);
    else this.leavesAt.delete(endpoint);
  }
}

/**
 * The peer's leaf certificate out of the session in OpenSSL's DER form (SSL_SESSION_ASN1, a SEQUENCE
 * whose [3] holds the peer certificate); undefined when there is none or the session is not
 * what we expect, and the caller reads the chain instead.
 */
function sessionLeaf(socket: TLSSocket): Buffer | undefined {
  const session = socket.getSession();
  if (session === undefined) return undefined;
  try {
    const top = readElement(session, 0, session.length);
    for (const field of childrenOf(session, top)) {
      if (field.tag === PEER_CERTIFICATE_TAG) return session.subarray(field.contentStart, field.end);
    }
  } catch (error) {
    if (!(error instanceof DerError)) throw error;
  }
  return undefined;
}

/** [3] EXPLICIT, constructed, in OpenSSL's SSL_SESSION_ASN1. */
const PEER_CERTIFICATE_TAG = 0xa3;

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

/** Issuer certificates by fingerprint: thousands of servers send the same intermediate, kept once. */
const issuers = new InternPool<Buffer>(4096);

function internIssuers(chain: readonly Buffer[]): Buffer[] {
  return chain.map((der, depth) => (depth === 0 ? der : issuers.get(createHash('sha256').update(der).digest('base64'), () => der)));
}

/**
 * The presented stack in its order, when the handshake's records could not be read; empties the
 * session's chain and leaks its issuers (see PeerChains), so at most once per socket.
 */
function exactChain(socket: TLSSocket): Buffer[] {
  const chain: Buffer[] = [];
  for (let cert = socket.getPeerX509Certificate(); cert !== undefined && chain.length < MAX_CHAIN_LENGTH; cert = cert.issuerCertificate) chain.push(cert.raw);
  return chain;
}
