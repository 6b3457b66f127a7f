import { connect as tcpConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions, type SecureContext, type SecureVersion, TLSSocket, type TLSSocketOptions } from 'node:tls';
import type { Clock } from '../clock';
import { InternPool } from '../intern-pool';
import { referenceIdentity } from '../pki/server-name';
import { classifyError, ProbeError, type ProbePhase } from './probe-failure';
import type { PhaseDurations, ProbeOutcome, Prober, ProbeRequest, TlsFacts, VersionVerdicts } from './prober';
import { resolveAddresses, type Resolver } from './resolver';
import { clientCertificateVerdict } from './client-certificate-verdict';
import { connectAuthority, tunnel, type HttpProxy } from './http-connect';
import { HandshakeRecorder } from './handshake-recorder';
import { PeerChains } from './peer-chain';
import { SecureContexts } from './secure-contexts';
import type { StarttlsProtocol } from './starttls/upgrade';
import { UPGRADES } from './starttls/upgrades';

/** How long a finished probe waits for the server to close after our close_notify. */
const CLOSE_GRACE_MS = 1000;

/**
 * Waits for `event` on `emitter`, failing on 'error', 'close' or abort. The reason for each is
 * decided here, by phase, through classifyError.
 */
function phase<T>(
  name: ProbePhase,
  signal: AbortSignal,
  socket: Socket,
  event: string,
  value: () => T,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const cleanup = (): void => {
      socket.off(event, onDone);
      socket.off('error', onError);
      socket.off('close', onClose);
      signal.removeEventListener('abort', onAbort);
    };
    const onDone = (): void => { cleanup(); resolve(value()); };
    const onError = (error: unknown): void => { cleanup(); reject(classifyError(name, error, false)); };
    const onClose = (): void => { cleanup(); reject(classifyError(name, new Error('connection closed by peer'), false)); };
    const onAbort = (): void => { cleanup(); reject(classifyError(name, signal.reason, true)); };
    if (signal.aborted) { onAbort(); return; }
    socket.once(event, onDone);
    socket.once('error', onError);
    socket.once('close', onClose);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

async function resolveAddress(resolver: Resolver, host: string, signal: AbortSignal): Promise<string> {
  const [first] = await resolveAddresses(resolver, host, signal);
  return first;
}

/** SNI carries A-labels without a trailing dot, and never an IP address (RFC 6066 §3). */
function sniFor(serverName: string): { servername?: string } {
  const reference = referenceIdentity(serverName);
  return reference?.kind === 'dns' ? { servername: reference.name } : {};
}

/**
 * Ends a finished connection politely. Destroying it at secureConnect would cut a TLS 1.3
 * server off before it reads our Finished, and it would log a failed handshake for every probe.
 */
function closeGracefully(socket: TLSSocket): void {
  const timer = setTimeout(() => { socket.destroy(); }, CLOSE_GRACE_MS);
  timer.unref();
  socket.once('close', () => { clearTimeout(timer); });
  socket.end();
}

function ignore(): void {
  // Deliberately empty: see the 'error' listeners in connect() and handshake().
}

/** The sockets one probe opened, so a failure at any step closes them all. */
type Track = (socket: Socket) => void;
/** Reads the presented chain off a socket whose handshake just finished. */
type ChainReader<C> = (socket: TLSSocket) => C;

/** TCP to `address`, with the connect phase's reasons. */
async function connect(address: string, port: number, signal: AbortSignal, track: Track): Promise<Socket> {
  const tcp = tcpConnect({ host: address, port });
  track(tcp);
  // Errors are taken by phase(); this keeps a late one (after a phase settled) from crashing the process.
  tcp.on('error', ignore);
  await phase('connect', signal, tcp, 'connect', () => undefined);
  return tcp;
}

/** Where a probe's TCP connection goes: to the target, or to a proxy that tunnels there. */
interface Route {
  /** The address connected to: the target's, or the proxy's. */
  readonly address: string;
  readonly port: number;
  /** Through a proxy: what it is asked to CONNECT to. */
  readonly tunnel?: { readonly authority: string; readonly proxy: HttpProxy };
}

/**
 * The dns phase. The target's name (or its `address` override) is resolved here when the
 * connection is direct; through a proxy only the proxy's name is, and the proxy resolves the
 * target's, as it would for any client behind it.
 */
async function route(resolver: Resolver, request: ProbeRequest, signal: AbortSignal): Promise<Route> {
  const target = request.address ?? request.host;
  const { proxy } = request;
  if (proxy === undefined) return { address: await resolveAddress(resolver, target, signal), port: request.port };
  return { address: await resolveAddress(resolver, proxy.host, signal), port: proxy.port, tunnel: { authority: connectAuthority(target, request.port), proxy } };
}

/** The connect phase: TCP, and through a proxy the tunnel too; the socket then leads to the target. */
async function open(to: Route, signal: AbortSignal, track: Track): Promise<Socket> {
  const tcp = await connect(to.address, to.port, signal, track);
  if (to.tunnel !== undefined) await tunnel(tcp, to.tunnel.authority, to.tunnel.proxy, signal);
  return tcp;
}

/** The protocol's plain-text prelude, when the target names one; every failure is starttls_failed. */
async function upgrade(tcp: Socket, protocol: StarttlsProtocol, serverName: string, signal: AbortSignal): Promise<void> {
  try {
    await UPGRADES[protocol](tcp, serverName, signal);
  } catch (error) {
    throw error instanceof ProbeError ? error : classifyError('starttls', error, signal.aborted);
  }
}

/** The connect phase and, when the target names a protocol, its upgrade: a socket ready for TLS. */
async function openForTls(to: Route, request: ProbeRequest, signal: AbortSignal, track: Track): Promise<Socket> {
  const tcp = await open(to, signal, track);
  if (request.starttls !== undefined) await upgrade(tcp, request.starttls, request.serverName, signal);
  return tcp;
}

interface Handshake<C> {
  readonly socket: TLSSocket;
  readonly chain: C;
  /** The OCSP response the server stapled, if it sent one. */
  readonly ocspResponse: Buffer | undefined;
}

/**
 * TLS over the connected (and upgraded) socket, with SNI; we verify later ourselves, so nothing
 * is rejected here. With `recorder` (made on `tcp`), TLS runs over its stream.
 */
async function handshake<C>(tcp: Socket, serverName: string, secureContext: SecureContext, readChain: ChainReader<C>, signal: AbortSignal, track: Track, recorder?: HandshakeRecorder): Promise<Handshake<C>> {
  // requestOCSP asks for a stapled response (status_request), as browsers do; it arrives before
  // secureConnect. tls.connect hands it to the TLSSocket, though @types/node lists it only there.
  const options: ConnectionOptions & Pick<TLSSocketOptions, 'requestOCSP'> = {
    socket: recorder?.stream ?? tcp, secureContext, rejectUnauthorized: false, requestOCSP: true, ...sniFor(serverName),
  };
  const socket = tlsConnect(options);
  recorder?.watch(socket);
  track(socket);
  socket.on('error', ignore);
  let ocspResponse: Buffer | undefined;
  // Node emits null when the server staples nothing.
  socket.once('OCSPResponse', (response: unknown) => { if (Buffer.isBuffer(response) && response.length > 0) ocspResponse = response; });
  const chain = await phase('handshake', signal, socket, 'secureConnect', () => readChain(socket));
  return { socket, chain, ocspResponse };
}

/** One object per protocol and cipher: every target's result holds one, and there are only a handful. */
const sharedFacts = new InternPool<TlsFacts>(1000);

/** The protocol and IANA cipher name of a socket's handshake. */
function tlsFacts(socket: TLSSocket): TlsFacts {
  const cipherInfo = socket.getCipher() as Partial<ReturnType<TLSSocket['getCipher']>> | undefined;
  const version = socket.getProtocol() ?? 'unknown';
  const cipher = cipherInfo?.standardName ?? cipherInfo?.name ?? 'unknown';
  return sharedFacts.get(`${version} ${cipher}`, () => ({ version, cipher }));
}

/**
 * Whether the server completes a handshake limited to `version`: true when it does (or gets as
 * far as judging our client certificate), false when it refuses the version (an alert, a reset,
 * a close), undefined when the check could not reach the handshake or ran out of time.
 */
async function acceptsVersion(to: Route, request: ProbeRequest, version: SecureVersion, contexts: SecureContexts, signal: AbortSignal): Promise<boolean | undefined> {
  const opened: Socket[] = [];
  const track: Track = (socket) => { opened.push(socket); };
  const clientCertificate = request.clientCertificate === undefined ? {} : { clientCertificate: request.clientCertificate };
  try {
    const tcp = await openForTls(to, request, signal, track);
    const { socket } = await handshake(tcp, request.serverName, contexts.get({ minVersion: version, maxVersion: version, ...clientCertificate }), () => [], signal, track);
    closeGracefully(socket);
    return true;
  } catch (error) {
    for (const socket of opened.reverse()) socket.destroy();
    const reason = error instanceof ProbeError ? error.reason : undefined;
    return reason === 'client_cert_rejected' ? true : reason === 'handshake_failed' ? false : undefined;
  }
}

/** The answers to request.checkVersions, one handshake after another, within the probe's budget. */
async function checkVersions(to: Route, request: ProbeRequest, contexts: SecureContexts, signal: AbortSignal): Promise<VersionVerdicts> {
  const verdicts: VersionVerdicts = {};
  for (const version of request.checkVersions ?? []) {
    if (signal.aborted) break;
    const accepted = await acceptsVersion(to, request, version, contexts, signal);
    if (accepted !== undefined) verdicts[version] = accepted;
  }
  return verdicts;
}

export function createTlsProber(deps: { readonly resolver: Resolver; readonly clock: Clock }): Prober {
  const { resolver, clock } = deps;
  const contexts = new SecureContexts();
  const chains = new PeerChains(() => clock.monotonic());

  return async (request: ProbeRequest, signal: AbortSignal): Promise<ProbeOutcome> => {
    // Chains are remembered per place and name: two nodes may serve one leaf with different chains.
    let endpoint = request.serverName;
    // Set before each handshake: the one being read records what the server sends, or not.
    let recorder: HandshakeRecorder | undefined;
    const readChain = (socket: TLSSocket): readonly Buffer[] | undefined => chains.take(socket, endpoint, recorder);
    const phases: PhaseDurations = {};
    const opened: Socket[] = [];
    // A TLS 1.2 server refuses our certificate with an alert inside the handshake, after sending its
    // chain; the chain can be read only while that error is being emitted.
    let seenAtError: { chain: readonly Buffer[] | undefined; tls: TlsFacts } | undefined;
    const track: Track = (socket) => {
      opened.push(socket);
      if (request.clientCertificate === undefined || !(socket instanceof TLSSocket)) return;
      socket.prependOnceListener('error', () => { seenAtError = { chain: readChain(socket), tls: tlsFacts(socket) }; });
    };
    let address: string | undefined;
    let started = clock.monotonic();
    const lap = (name: keyof PhaseDurations): void => {
      const now = clock.monotonic();
      phases[name] = (now - started) / 1000;
      started = now;
    };
    try {
      const to = await route(resolver, request, signal);
      address = to.address;
      endpoint = [to.tunnel?.authority, to.address, to.port, request.serverName, request.starttls].join(' ');
      lap('dns');
      const tcp = await open(to, signal, track);
      lap('connect');
      if (request.starttls !== undefined) {
        await upgrade(tcp, request.starttls, request.serverName, signal);
        lap('starttls');
      }
      const context = contexts.get(request);
      recorder = chains.shouldRecord(endpoint) ? new HandshakeRecorder(tcp) : undefined;
      const first = await handshake(tcp, request.serverName, context, readChain, signal, track, recorder);
      lap('handshake');
      let { socket, ocspResponse } = first;
      let chain = first.chain;
      if (chain === undefined) {
        // A chain not seen here before, on a handshake not recorded (a renewed leaf): one more, recorded,
        // whose chain, staple and protocol the result reports; the phases stay the first one's.
        closeGracefully(socket);
        const tcpAgain = await openForTls(to, request, signal, track);
        const again = new HandshakeRecorder(tcpAgain);
        recorder = again;
        ({ socket, chain, ocspResponse } = await handshake(tcpAgain, request.serverName, context, (s) => chains.take(s, endpoint, again), signal, track, again));
      }
      const cipher = socket.getCipher();
      const version = socket.getProtocol() ?? 'unknown';
      if (request.clientCertificate !== undefined && version === 'TLSv1.3') {
        const facts = tlsFacts(socket);
        const refused = await clientCertificateVerdict(socket, signal);
        if (refused !== undefined) {
          for (const opening of opened.reverse()) opening.destroy();
          return { ok: false, reason: refused.reason, error: refused.message, address, phases, seen: { chain, tls: facts } };
        }
      }
      closeGracefully(socket);
      const versions = request.checkVersions === undefined ? undefined : await checkVersions(to, request, contexts, signal);
      return {
        ok: true,
        address,
        chain,
        tls: { version, cipher: cipher.standardName || cipher.name },
        phases,
        ...(versions === undefined ? {} : { versions }),
        ...(ocspResponse === undefined ? {} : { ocspResponse }),
      };
    } catch (error) {
      for (const socket of opened.reverse()) socket.destroy();
      const failure = error instanceof ProbeError ? error : classifyError('handshake', error, false);
      const seenChain = seenAtError?.chain ?? [];
      const seen = failure.reason === 'client_cert_rejected' && seenAtError !== undefined && seenChain.length > 0 ? { seen: { chain: seenChain, tls: seenAtError.tls } } : {};
      return { ok: false, reason: failure.reason, error: failure.message, address, phases, ...seen };
    }
  };
}
