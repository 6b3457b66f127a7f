/**
 * address (on a target) and proxy_url (in `defaults:` or on a target): where a probe connects
 * when that is not simply the addresses of `host`. A target's proxy_url replaces the default;
 * `direct` takes a target out of the default proxy.
 */
import { Type } from '@sinclair/typebox';
import type { HttpProxy } from '../probing/http-connect';
import { Secret } from '../web/secret';
import { parseHost } from './host';
import type { PathSegment } from './yaml-locator';

/** The proxy_url that means "no proxy" on a target whose defaults set one. */
export const DIRECT = 'direct';

export function addressSchema() {
  return Type.String({
    minLength: 1,
    description: 'Connect to this IP address (or name) instead of the addresses of host; SNI and the name checked stay server_name. One origin or load-balancer node behind a public name.',
    examples: ['192.0.2.10', '2001:db8::10'],
  });
}

export function proxyUrlSchema(description: string) {
  return Type.String({
    minLength: 1,
    description: `${description} http://[user:password@]host:port of an HTTP proxy that opens a CONNECT tunnel to the target; the proxy resolves the target's name.`,
    examples: ['http://proxy.internal:3128'],
  });
}

export interface RouteSettings {
  /** Connect here (IP literal without brackets, or a name) instead of to host's addresses. */
  readonly address?: string;
  readonly proxy?: HttpProxy;
}

type Reporter = (path: readonly PathSegment[], message: string) => void;

/** proxy_url to the proxy, or the message that says what is wrong with it (never quoting a password). */
export function parseProxyUrl(text: string): { readonly proxy: HttpProxy } | { readonly error: string } {
  // "host:port" would parse as a URL of scheme "host:".
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) return { error: 'proxy_url has no scheme: write it as http://host:port' };
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { error: 'proxy_url is not a URL: write http://host:port' };
  }
  const shown = `${url.protocol}//${url.host}`;
  if (url.protocol !== 'http:') return { error: `proxy_url ${JSON.stringify(shown)}: only http:// proxies are supported (HTTP CONNECT)` };
  if ((url.pathname !== '/' && url.pathname !== '') || url.search !== '' || url.hash !== '') {
    return { error: `proxy_url ${JSON.stringify(shown)}: drop the path, query and fragment; a proxy is host and port` };
  }
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  const port = url.port === '' ? 80 : Number(url.port);
  const user = decodeURIComponent(url.username);
  const password = decodeURIComponent(url.password);
  const credentials = user === '' && password === '' ? {} : { authorization: new Secret(`Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`) };
  return { proxy: Object.freeze({ host, port, url: `http://${url.host}`, ...credentials }) };
}

/** What these keys of `raw` say on top of the inherited proxy; problems go to `report`. */
export function readRoute(
  raw: Readonly<Record<string, unknown>>,
  at: (key: string) => PathSegment[],
  inherited: HttpProxy | undefined,
  report: Reporter,
): RouteSettings {
  let address: string | undefined;
  if (typeof raw.address === 'string' && raw.address !== '') {
    const parsed = parseHost(raw.address);
    if ('error' in parsed) report(at('address'), parsed.error);
    else address = parsed.host;
  }
  let proxy = inherited;
  if (typeof raw.proxy_url === 'string' && raw.proxy_url !== '') {
    proxy = undefined;
    if (raw.proxy_url !== DIRECT) {
      const parsed = parseProxyUrl(raw.proxy_url);
      if ('error' in parsed) report(at('proxy_url'), parsed.error);
      else proxy = parsed.proxy;
    }
  }
  return Object.freeze({ ...(address === undefined ? {} : { address }), ...(proxy === undefined ? {} : { proxy }) });
}
