/**
 * The `probe:` section: which targets /probe may probe that the config does not list (allow),
 * which addresses it never connects to for them (deny), and the settings they get (defaults).
 * Without the section /probe answers for configured targets only.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { Type } from '@sinclair/typebox';
import type { ProbeAllowPattern, AddressRange, PortMatch } from './config-types';
import type { Parsed } from './expectations-config';

export function allowSchema() {
  return Type.Array(Type.String({
    minLength: 1,
    description: 'HOST:PORT a /probe target must match, as requested, before any DNS: a name glob (`*` within one label, `**` for one or more labels), an IP address or a CIDR (IPv6 in brackets); PORT is a number or `*`.',
    examples: ['*.example.com:443', 'db-*.internal:5432', '10.0.0.0/8:443', '[2001:db8::]/32:*'],
  }), { description: 'Targets /probe may probe that the config does not list. Empty or absent: configured targets only.' });
}

export function denySchema() {
  return Type.Array(Type.String({
    minLength: 1,
    description: 'An IP address or CIDR (IPv6 bare or in brackets).',
    examples: ['192.168.0.0/16', 'fd00::/8', '10.1.2.3'],
  }), { description: 'Addresses an ad-hoc /probe target never connects to, checked on every address its name resolves to, in addition to the built-in loopback, link-local and cloud metadata ranges.' });
}

const MAX_PREFIX = { ipv4: 32, ipv6: 128 } as const;
const LABEL_GLOB = /^(?:\*\*|[a-z0-9_*-]{1,63})$/;

/** "10.0.0.0/8", "192.0.2.1", "2001:db8::/32", "[2001:db8::]/32": an address and its prefix. */
export function parseAddressRange(text: string): Parsed<AddressRange> {
  const slash = text.indexOf('/');
  const addressText = slash < 0 ? text : text.slice(0, slash);
  const address = addressText.startsWith('[') && addressText.endsWith(']') ? addressText.slice(1, -1) : addressText;
  const family = isIPv4(address) ? 'ipv4' : isIPv6(address) ? 'ipv6' : undefined;
  if (family === undefined) return { error: `${JSON.stringify(text)} is not an IP address or CIDR (examples: 10.0.0.0/8, 192.0.2.1, [2001:db8::]/32)` };
  const prefixText = slash < 0 ? String(MAX_PREFIX[family]) : text.slice(slash + 1);
  const prefix = /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
  if (!(prefix <= MAX_PREFIX[family])) return { error: `${JSON.stringify(text)}: the prefix length of an ${family === 'ipv4' ? 'IPv4' : 'IPv6'} CIDR is 0 to ${MAX_PREFIX[family]}` };
  return { value: Object.freeze({ text, address: address.toLowerCase(), prefix, family }) };
}

/** A name glob as a regular expression over lowercase names without a trailing dot. */
function nameGlob(text: string): Parsed<RegExp> {
  const name = (text.endsWith('.') ? text.slice(0, -1) : text).toLowerCase();
  const labels = name.split('.');
  if (name.length > 253 || !labels.every((label) => LABEL_GLOB.test(label)) || labels.some((label) => label.includes('**') && label !== '**')) {
    return { error: `${JSON.stringify(text)} is not a name glob: DNS labels of letters, digits, "-" and "_", where "*" matches within one label and a label "**" matches one or more labels` };
  }
  const source = labels.map((label) => (label === '**' ? '[^.]+(?:\\.[^.]+)*' : label.split('*').map((part) => part.replace(/-/g, '\\-')).join('[^.]*'))).join('\\.');
  return { value: new RegExp(`^${source}$`) };
}

function portMatch(text: string, pattern: string): Parsed<PortMatch> {
  if (text === '*') return { value: 'any' };
  const port = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  return port >= 1 && port <= 65535 ? { value: port } : { error: `${JSON.stringify(pattern)}: the port is a number from 1 to 65535, or * for any` };
}

/**
 * One `allow:` entry. The port is required: an allow-list that forgot it would open every port
 * of the matching hosts, which is what a relay to internal services needs.
 */
export function parseAllowPattern(text: string): Parsed<ProbeAllowPattern> {
  if (text.includes('://')) return { error: `${JSON.stringify(text)} is a URL: drop the scheme and write HOST:PORT (*.example.com:443)` };
  const colon = text.lastIndexOf(':');
  const hostText = colon < 0 ? text : text.slice(0, colon);
  if (colon < 0 || text.endsWith(']') || (hostText.includes(':') && !hostText.startsWith('['))) {
    return { error: `${JSON.stringify(text)} has no port: write HOST:PORT (*.example.com:443, 10.0.0.0/8:443, [2001:db8::]/32:443), * for any port` };
  }
  const port = portMatch(text.slice(colon + 1), text);
  if ('error' in port) return port;
  const isAddress = hostText.startsWith('[') || isIPv4(hostText) || hostText.includes('/') || /^[0-9.]+$/.test(hostText);
  if (isAddress) {
    const range = parseAddressRange(hostText);
    return 'error' in range ? range : { value: Object.freeze({ text, kind: 'range', range: range.value, port: port.value }) };
  }
  const pattern = nameGlob(hostText);
  return 'error' in pattern ? pattern : { value: Object.freeze({ text, kind: 'name', pattern: pattern.value, port: port.value }) };
}
