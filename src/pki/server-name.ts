import { isIP } from 'node:net';
import { domainToASCII } from 'node:url';
import { getPublicSuffix } from 'tldts';
import type { ParsedCertificate } from './certificate';
import { bytesToIp, ipToBytes } from './ip-address';

function normalizeDnsName(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

/** What a server name asks a certificate for: an IP address (canonical text), or a DNS name (A-labels, lowercase, no trailing dot). */
export type ReferenceIdentity = { readonly kind: 'ip'; readonly ip: string } | { readonly kind: 'dns'; readonly name: string };

/**
 * RFC 6125 §6.2 reference identity, or undefined for a name that can match nothing. Other
 * spellings of an address ("127.1", "0x7f.0.0.1", "127.0.0.1.") are neither: URL parsing would
 * turn them into an IP and let them match a DNS SAN or CN that reads like one.
 */
export function referenceIdentity(serverName: string): ReferenceIdentity | undefined {
  const bytes = ipToBytes(serverName.replace(/^\[(.*)\]$/, '$1'));
  if (bytes !== undefined) return { kind: 'ip', ip: bytesToIp(bytes) };
  if (serverName.includes('*')) return undefined;
  const name = normalizeDnsName(domainToASCII(serverName));
  if (name === '' || isIP(name) !== 0 || /^[\d.]+$/.test(name)) return undefined;
  return { kind: 'dns', name };
}

/** RFC 6125 §6.4.3: a wildcard only as the whole leftmost label, matching exactly one label, never over a public suffix. */
function matchesDnsName(presented: string, reference: string): boolean {
  const pattern = normalizeDnsName(presented);
  if (pattern === reference) return true;
  if (!pattern.startsWith('*.')) return false;
  const base = pattern.slice(2);
  // "*.com" or "*.co.uk" would cover every registrant under a public suffix (CA/Browser Forum BR 3.2.2.6).
  if (!base.includes('.') || base.includes('*')) return false;
  if (getPublicSuffix(base, { allowPrivateDomains: true }) === base) return false;
  const dot = reference.indexOf('.');
  return dot > 0 && reference.slice(dot + 1) === base;
}

/**
 * Does the certificate name `serverName`? IP literals match only iPAddress SANs, compared as
 * bytes; DNS names match dNSName SANs, and the subject CN only when the certificate has no
 * subjectAltName at all (RFC 6125 §6.4.4).
 */
export function certificateMatchesName(cert: ParsedCertificate, serverName: string): boolean {
  const reference = referenceIdentity(serverName);
  if (reference === undefined) return false;
  if (reference.kind === 'ip') return cert.ipAddresses.includes(reference.ip);
  if (cert.hasSubjectAltName) return cert.dnsNames.some((name) => matchesDnsName(name, reference.name));
  return cert.subject.commonName !== '' && matchesDnsName(cert.subject.commonName, reference.name);
}
