/**
 * address (on a target), proxy_url and addresses (in `defaults:` or on a target): where a probe
 * connects when that is not simply the first address of `host`. A target's proxy_url replaces
 * the default; `direct` takes a target out of the default proxy.
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

export function addressesSchema(description: string) {
  return Type.Union([Type.Literal('first'), Type.Literal('all')], {
    description: `${description} first: probe the first address the name resolves to; all: probe every address (A and AAAA) under the same name, export each with an address label, and count the distinct leaf certificates.`,
  });
}

export interface RouteSettings {
  /** Connect here (IP literal without brackets, or a name) instead of to host's addresses. */
  readonly address?: string;
  readonly proxy?: HttpProxy;
  /** addresses: all, probe every address of host. */
  readonly everyAddress?: true;
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

/** What these keys of `raw` say on top of what `defaults:` set (its proxy and addresses); problems go to `report`. */
export function readRoute(
  raw: Readonly<Record<string, unknown>>,
  at: (key: string) => PathSegment[],
  inherited: RouteSettings,
  report: Reporter,
): RouteSettings {
  let address: string | undefined;
  if (typeof raw.address === 'string' && raw.address !== '') {
    const parsed = parseHost(raw.address);
    if ('error' in parsed) report(at('address'), parsed.error);
    else address = parsed.host;
  }
  let proxy = inherited.proxy;
  if (typeof raw.proxy_url === 'string' && raw.proxy_url !== '') {
    proxy = undefined;
    if (raw.proxy_url !== DIRECT) {
      const parsed = parseProxyUrl(raw.proxy_url);
      if ('error' in parsed) report(at('proxy_url'), parsed.error);
      else proxy = parsed.proxy;
    }
  }
  const everyAddress = raw.addresses === undefined ? inherited.everyAddress === true : raw.addresses === 'all';
  // Set here, or inherited and clashing with what is set here: the message goes where the target differs.
  const here = raw.addresses === 'all' ? 'addresses' : undefined;
  if (everyAddress && address !== undefined) {
    report(at(here ?? 'address'), 'addresses: all probes every address of host, and address names one: set one of them');
  } else if (everyAddress && proxy !== undefined) {
    report(at(here ?? 'proxy_url'), 'addresses: all needs a direct connection: through proxy_url the proxy resolves the name and picks the address');
  }
  return Object.freeze({
    ...(address === undefined ? {} : { address }),
    ...(proxy === undefined ? {} : { proxy }),
    ...(everyAddress ? { everyAddress: true as const } : {}),
  });
}
