import type { Socket } from 'node:net';
import type { Secret } from '../web/secret';
import { converse, quote, type Taken } from './conversation';

/** An HTTP proxy that opens TCP tunnels with CONNECT (RFC 9110 §9.3.6). */
export interface HttpProxy {
  /** DNS name or IP literal, without brackets. */
  readonly host: string;
  readonly port: number;
  /** "Basic base64(user:password)", from the URL's user information. */
  readonly authorization?: Secret;
  /** The proxy's URL without credentials, for messages. */
  readonly url: string;
}

/** The CONNECT target: host:port, an IPv6 literal in brackets (RFC 9110 §7.2 authority-form). */
export function connectAuthority(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** The status line and headers, up to the blank line that ends them. */
function takeHead(buffered: Buffer): Taken<string> | undefined {
  const text = buffered.toString('latin1');
  const end = /\r?\n\r?\n/.exec(text);
  if (end === null) return undefined;
  return { value: text.slice(0, end.index), length: end.index + end[0].length };
}

const HINTS: Readonly<Record<string, string>> = {
  '407': ': the proxy wants credentials, as http://user:password@host:port in proxy_url',
  '403': ': the proxy\'s rules forbid this destination or port',
  '502': ': the proxy could not reach the target',
  '503': ': the proxy could not reach the target',
  '504': ': the proxy timed out reaching the target',
};

/**
 * Asks the proxy on `socket` for a tunnel to `authority`; resolves once the proxy answers 2xx,
 * leaving the socket a byte stream to the target, with whatever the target already said (a
 * STARTTLS greeting) unread. A refusal or a proxy that is not HTTP fails with proxy_failed.
 */
export function tunnel(socket: Socket, authority: string, proxy: HttpProxy, signal: AbortSignal): Promise<void> {
  return converse(socket, signal, { reason: 'proxy_failed', prefix: `proxy: ${proxy.url}`, leftover: 'keep' }, async (c) => {
    const credentials = proxy.authorization === undefined ? '' : `Proxy-Authorization: ${proxy.authorization.reveal()}\r\n`;
    c.send(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n${credentials}\r\n`);
    const head = await c.read('the answer to CONNECT', takeHead);
    const statusLine = head.split(/\r?\n/, 1)[0] ?? '';
    const status = /^HTTP\/1\.[01] (\d{3})\b/.exec(statusLine)?.[1];
    if (status === undefined) throw c.fail(`expected an HTTP answer to CONNECT ${authority}, got ${quote(statusLine)}: is proxy_url an HTTP proxy?`);
    if (!status.startsWith('2')) throw c.fail(`the proxy answered ${quote(statusLine)} to CONNECT ${authority}${HINTS[status] ?? ''}`);
  });
}
