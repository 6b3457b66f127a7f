/**
 * What `host:` may hold. A probe needs a bare name or address: people paste URLs and
 * "host:port" from browsers and other tools, so those get a message saying what to change.
 */
import { isIPv4, isIPv6 } from 'node:net';

export type HostResult = { readonly host: string; readonly ipv6: boolean } | { readonly error: string };

const LABEL = /^[a-z0-9_-]{1,63}$/;
const MAX_NAME_LENGTH = 253;

export function parseHost(text: string): HostResult {
  if (text.includes('://') || text.includes('/') || (text.includes(':') && !isIPv6(text) && !isBracketedIPv6(text))) {
    return {
      error: `${JSON.stringify(text)} is not a bare DNS name or IP address: drop the scheme and path, and put the port in port:`,
    };
  }
  if (isBracketedIPv6(text)) return { host: text.slice(1, -1).toLowerCase(), ipv6: true };
  if (isIPv6(text)) return { host: text.toLowerCase(), ipv6: true };
  if (isIPv4(text)) return { host: text, ipv6: false };
  // Only digits and dots is never a DNS name (top-level domains are not numeric), so "10.0.0.256"
  // is a mistyped address, not a name the resolver should be asked about.
  if (/^[0-9.]+$/.test(text)) return { error: `${JSON.stringify(text)} is not a valid IPv4 address` };
  // A trailing dot marks a fully qualified name; the resolver and the certificate do not need it.
  const name = (text.endsWith('.') ? text.slice(0, -1) : text).toLowerCase();
  if (name.length > MAX_NAME_LENGTH || !name.split('.').every((label) => LABEL.test(label))) {
    return {
      error: `${JSON.stringify(text)} is not a valid DNS name or IP address (DNS labels are 1 to 63 letters, digits, "-" or "_", at most 253 characters in all)`,
    };
  }
  return { host: name, ipv6: false };
}

function isBracketedIPv6(text: string): boolean {
  return text.startsWith('[') && text.endsWith(']') && isIPv6(text.slice(1, -1));
}

/** The default `target` label, written the way URLs write it so an IPv6 port stays readable. */
export function defaultTargetName(host: string, port: number, ipv6: boolean): string {
  return ipv6 ? `[${host}]:${port}` : `${host}:${port}`;
}

export type HostPortResult = { readonly host: string; readonly ipv6: boolean; readonly port: number } | { readonly error: string };

/**
 * A /probe target that is not a configured name: "host:port", "[v6]:port", or a bare host or
 * IPv6 address on `defaultPort`. The host is read by parseHost, as `host:` in the config is.
 */
export function parseHostPort(text: string, defaultPort: number): HostPortResult {
  let hostText = text;
  let portText: string | undefined;
  if (!isIPv6(text)) {
    const match = /^(\[[^\]]*\]|[^:]*)(?::([^:]*))?$/.exec(text);
    if (match === null) return { error: `${JSON.stringify(text)} is not HOST:PORT (write an IPv6 address in brackets: [2001:db8::1]:443)` };
    hostText = match[1] ?? '';
    portText = match[2];
  }
  const port = portText === undefined ? defaultPort : /^\d{1,5}$/.test(portText) ? Number(portText) : NaN;
  if (!(port >= 1 && port <= 65535)) return { error: `${JSON.stringify(text)}: the port is a number from 1 to 65535` };
  const host = parseHost(hostText);
  return 'error' in host ? host : { ...host, port };
}
