import { domainToASCII } from 'node:url';
import type { ParsedCertificate } from './certificate';
import { bytesToIp, ipToBytes } from './ip-address';

function normalizeDnsName(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

/** RFC 6125 §6.4.3: a wildcard only as the whole leftmost label, matching exactly one label. */
function matchesDnsName(presented: string, reference: string): boolean {
  const pattern = normalizeDnsName(presented);
  if (pattern === reference) return true;
  if (!pattern.startsWith('*.')) return false;
  const base = pattern.slice(2);
  // "*.com" would cover a whole TLD; a wildcard needs at least two labels under it.
  if (!base.includes('.') || base.includes('*')) return false;
  const dot = reference.indexOf('.');
  return dot > 0 && reference.slice(dot + 1) === base;
}

/**
 * Does the certificate name `serverName`? IP literals match only iPAddress SANs, compared as
 * bytes; DNS names match dNSName SANs, and the subject CN only when the certificate has no
 * subjectAltName at all (RFC 6125 §6.4.4).
 */
export function certificateMatchesName(cert: ParsedCertificate, serverName: string): boolean {
  const ip = ipToBytes(serverName.replace(/^\[(.*)\]$/, '$1'));
  if (ip !== undefined) {
    const wanted = bytesToIp(ip);
    return cert.ipAddresses.includes(wanted);
  }
  const reference = normalizeDnsName(domainToASCII(serverName));
  if (reference === '') return false;
  if (cert.hasSubjectAltName) return cert.dnsNames.some((name) => matchesDnsName(name, reference));
  return cert.subject.commonName !== '' && matchesDnsName(cert.subject.commonName, reference);
}
