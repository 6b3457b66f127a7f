/**
 * Real TLS (and plain TCP) servers on loopback for tests. Each listens on an ephemeral port;
 * close() destroys any open sockets and resolves once the listener is closed.
 */
import * as net from 'node:net';
import * as tls from 'node:tls';
import type { KeyPair, TestCert } from './pki';

/** Loopback only: 127.0.0.0/8 (Linux answers on all of it) and ::1. */
export type LoopbackHost = '127.0.0.1' | '::1' | `127.0.0.${number}`;

export interface TlsTestServer {
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

export interface TlsServerOptions {
  /** Default 127.0.0.1. */
  host?: LoopbackHost;
  /** Default any free port; a fixed one lets servers on several loopback addresses share it. */
  port?: number;
  /** The private key matching chain[0]. */
  key: KeyPair;
  /** Leaf first; exactly what is presented, in this order (no completion, no reordering). */
  chain: TestCert[];
  minVersion?: tls.SecureVersion;
  maxVersion?: tls.SecureVersion;
  /**
   * Passed through to tls.createServer (e.g. `ciphers: 'DEFAULT@SECLEVEL=0'` to serve SHA-1 or RSA-1024 chains,
   * or an SNICallback). key/cert/minVersion/maxVersion above take precedence.
   */
  serverOptions?: Omit<tls.TlsOptions, 'key' | 'cert' | 'minVersion' | 'maxVersion'>;
}

/** Presents `chain`, completes the handshake, then ends the connection. */
export function startTlsServer(opts: TlsServerOptions): Promise<TlsTestServer> {
  if (opts.chain.length === 0) throw new Error('startTlsServer: chain must hold at least the leaf');
  const server = tls.createServer({
    ...opts.serverOptions,
    key: opts.key.privateKeyPem,
    cert: opts.chain.map((cert) => cert.pem).join(''),
    ...(opts.minVersion === undefined ? {} : { minVersion: opts.minVersion }),
    ...(opts.maxVersion === undefined ? {} : { maxVersion: opts.maxVersion }),
  });
  server.on('secureConnection', (socket: tls.TLSSocket) => {
    socket.on('error', () => undefined);
    socket.end();
  });
  // Clients that abort the handshake (they reject our chain, time out, ...) are expected in tests.
  server.on('tlsClientError', () => undefined);
  return listen(server, opts.host ?? '127.0.0.1', opts.port ?? 0);
}

/** A plain-TCP server for misbehaving peers: `onConnection` gets every accepted socket. */
export function startRawServer(host: LoopbackHost, onConnection: (socket: net.Socket) => void): Promise<TlsTestServer> {
  const server = net.createServer((socket) => {
    socket.on('error', () => undefined);
    onConnection(socket);
  });
  return listen(server, host);
}

function listen(server: net.Server, host: LoopbackHost, port = 0): Promise<TlsTestServer> {
  // tls.Server emits 'connection' with the raw TCP socket too, so this tracks every connection.
  const sockets = new Set<net.Socket>();
  server.on('connection', (socket: net.Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= new Promise<void>((resolve, reject) => {
      server.close((err) => {
        if (err !== undefined) reject(err);
        else resolve();
      });
      for (const socket of sockets) socket.destroy();
    });
    return closing;
  };

  return new Promise<TlsTestServer>((resolve, reject) => {
    const onError = (err: Error): void => {
      reject(err);
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      const address = server.address();
      if (address === null || typeof address === 'string') {
        reject(new Error('unexpected server address'));
        return;
      }
      resolve({ host, port: address.port, close });
    });
  });
}
