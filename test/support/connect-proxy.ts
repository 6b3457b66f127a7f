/**
 * A small HTTP CONNECT proxy on loopback for tests: records every CONNECT it gets, can demand
 * credentials or answer with a fixed status, and tunnels only to loopback addresses (names it
 * is told, or loopback literals), whatever a client asks for.
 */
import { connect, isIP, type Socket } from 'node:net';
import { startRawServer, type LoopbackHost, type TlsTestServer } from './tls-server';

export interface ConnectRequest {
  readonly authority: string;
  /** Header names lowercased. */
  readonly headers: Readonly<Record<string, string>>;
}

export interface ConnectProxy extends TlsTestServer {
  readonly requests: ConnectRequest[];
}

export interface ConnectProxyOptions {
  readonly host?: LoopbackHost;
  /** Names the proxy resolves, each to a loopback address; any other name gets 502. */
  readonly names?: Readonly<Record<string, LoopbackHost>>;
  /** A Proxy-Authorization value to demand; others get 407. */
  readonly authorization?: string;
  /** Answer every CONNECT with this status line (e.g. "403 Forbidden") instead of tunnelling. */
  readonly answer?: string;
  /** Bytes to send right after the 200 answer, before the target's (what a broken proxy does). */
  readonly trailing?: string;
}

/** Loopback only: 127.0.0.0/8 and ::1. */
function isLoopback(address: string): boolean {
  return (isIP(address) === 4 && address.startsWith('127.')) || address === '::1';
}

function parseHead(head: string): ConnectRequest | undefined {
  const [requestLine = '', ...lines] = head.split('\r\n');
  const match = /^CONNECT (\S+) HTTP\/1\.[01]$/.exec(requestLine);
  if (match === null) return undefined;
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { authority: match[1] ?? '', headers };
}

/** host:port (IPv6 in brackets) to a loopback destination, or undefined when the proxy must refuse. */
function destination(authority: string, names: Readonly<Record<string, LoopbackHost>>): { host: string; port: number } | undefined {
  const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(authority);
  const host = match?.[1] ?? match?.[2];
  if (host === undefined) return undefined;
  const address = names[host] ?? host;
  return isLoopback(address) ? { host: address, port: Number(match?.[3]) } : undefined;
}

function answer(socket: Socket, status: string, extra = ''): void {
  socket.end(`HTTP/1.1 ${status}\r\n${extra}Content-Length: 0\r\n\r\n`);
}

export async function startConnectProxy(options: ConnectProxyOptions = {}): Promise<ConnectProxy> {
  const requests: ConnectRequest[] = [];
  const server = await startRawServer(options.host ?? '127.0.0.1', (client) => {
    let head = '';
    const onData = (chunk: Buffer): void => {
      head += chunk.toString('latin1');
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) {
        if (head.length > 16_384) client.destroy();
        return;
      }
      client.off('data', onData);
      client.pause();
      const request = parseHead(head.slice(0, end));
      const rest = Buffer.from(head.slice(end + 4), 'latin1');
      if (request === undefined) { answer(client, '400 Bad Request'); return; }
      requests.push(request);
      if (options.answer !== undefined) { answer(client, options.answer); return; }
      if (options.authorization !== undefined && request.headers['proxy-authorization'] !== options.authorization) {
        answer(client, '407 Proxy Authentication Required', 'Proxy-Authenticate: Basic realm="certexp-test"\r\n');
        return;
      }
      const to = destination(request.authority, options.names ?? {});
      if (to === undefined) { answer(client, '502 Bad Gateway'); return; }
      const upstream = connect(to);
      upstream.on('error', () => { if (!client.destroyed) answer(client, '502 Bad Gateway'); });
      upstream.once('connect', () => {
        client.write(`HTTP/1.1 200 Connection established\r\n\r\n${options.trailing ?? ''}`);
        if (rest.length > 0) upstream.write(rest);
        client.pipe(upstream);
        upstream.pipe(client);
        client.resume();
        client.once('close', () => upstream.destroy());
        upstream.once('close', () => client.destroy());
      });
    };
    client.on('data', onData);
  });
  return { ...server, requests };
}
