import type { EventEmitter } from 'node:events';
import { classifyError, ProbeError } from './probe-failure';

/** How long to wait for a server that neither sends a session ticket nor refuses us. */
export const VERDICT_WAIT_MS = 500;

/**
 * In TLS 1.3 the client's handshake is done before the server has read the client's certificate
 * (RFC 8446 §4.4.2: the server checks it after the client's Finished), so a refusal arrives
 * after secureConnect, as an alert or a closed connection. Waits for the server's first word: a
 * session ticket or data mean it accepted us; an alert, or a close before either, mean it did
 * not (a server that accepts sends its tickets once it has read our Finished, before any close;
 * Node.js servers refuse by closing, without an alert). A server that says nothing is given the
 * benefit of the doubt after VERDICT_WAIT_MS, as is one still silent when the probe runs out of
 * time: the chain, which the probe came for, is already in hand.
 */
export function clientCertificateVerdict(socket: Pick<EventEmitter, 'once' | 'off'>, signal: AbortSignal): Promise<ProbeError | undefined> {
  return new Promise<ProbeError | undefined>((resolve) => {
    const settle = (verdict: ProbeError | undefined): void => {
      clearTimeout(timer);
      socket.off('session', accept);
      socket.off('data', accept);
      socket.off('error', refuse);
      socket.off('end', closed);
      socket.off('close', closed);
      signal.removeEventListener('abort', accept);
      resolve(verdict);
    };
    const accept = (): void => { settle(undefined); };
    const refuse = (error: unknown): void => {
      const failure = classifyError('handshake', error, false);
      settle(failure.reason === 'client_cert_rejected' ? failure : new ProbeError('client_cert_rejected', `${failure.message}, after the handshake, where only our certificate was left to refuse`, { cause: error }));
    };
    const closed = (): void => {
      settle(new ProbeError('client_cert_rejected', 'handshake: the server closed the connection right after the handshake, without accepting our client certificate'));
    };
    const timer = setTimeout(accept, VERDICT_WAIT_MS);
    socket.once('session', accept);
    socket.once('data', accept);
    socket.once('error', refuse);
    socket.once('end', closed);
    socket.once('close', closed);
    signal.addEventListener('abort', accept, { once: true });
    if (signal.aborted) accept();
  });
}
