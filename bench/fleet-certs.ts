/**
 * The fleet's PKI: one root, one intermediate, and one leaf per SNI name, all leaves sharing one
 * EC P-256 key. Sharing the key keeps generation to a signature per name (seconds for 10,000)
 * while every name still has its own certificate, fingerprint and serial, so certexp parses,
 * verifies and exports each target separately as it would on a real fleet.
 *
 * Cached under bench/.cache/ keyed by N, and regenerated when it would expire within a week.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createCertificate, days, generateKeyPair } from '../test/support/pki';

export interface FleetCerts {
  readonly version: number;
  readonly createdAt: string;
  /** Epoch ms of the earliest notAfter among the fleet's certificates. */
  readonly notAfter: number;
  readonly rootPem: string;
  readonly intermediatePem: string;
  /** PKCS#8 PEM of the key every leaf certifies. */
  readonly leafKeyPem: string;
  readonly names: readonly string[];
  /** Leaf PEM per name, same order as `names`. */
  readonly leafPems: readonly string[];
}

const FORMAT_VERSION = 1;
const MIN_REMAINING_MS = days(7);

/** t00042.fleet.certexp.test: the reserved .test TLD, so nothing here can leak to real DNS. */
export function fleetName(index: number): string {
  return `t${String(index).padStart(5, '0')}.fleet.certexp.test`;
}

export function certsPath(cacheDir: string, count: number): string {
  return join(cacheDir, `fleet-certs-${count}.json`);
}

function readCached(path: string, count: number): FleetCerts | undefined {
  try {
    const cached = JSON.parse(readFileSync(path, 'utf8')) as FleetCerts;
    const fresh = cached.version === FORMAT_VERSION && cached.names.length === count && cached.leafPems.length === count
      && cached.notAfter - Date.now() > MIN_REMAINING_MS;
    return fresh ? cached : undefined;
  } catch {
    return undefined;
  }
}

/** The fleet for `count` names, from the cache or freshly generated (and then cached). */
export async function loadOrCreateFleetCerts(cacheDir: string, count: number, log: (line: string) => void): Promise<{ certs: FleetCerts; path: string; generatedMs: number | undefined }> {
  const path = certsPath(cacheDir, count);
  const cached = readCached(path, count);
  if (cached !== undefined) return { certs: cached, path, generatedMs: undefined };

  log(`generating ${count} leaf certificates (cached in ${path})`);
  const started = performance.now();
  const notAfter = new Date(Date.now() + days(90));
  const rootKey = await generateKeyPair('ec-p256');
  const intermediateKey = await generateKeyPair('ec-p256');
  const leafKey = await generateKeyPair('ec-p256');
  const root = await createCertificate({ subjectCn: 'certexp bench root', key: rootKey, ca: true, notAfter: new Date(Date.now() + days(3650)) });
  const intermediate = await createCertificate({ subjectCn: 'certexp bench intermediate', key: intermediateKey, issuer: root, ca: true, pathLength: 0, notAfter: new Date(Date.now() + days(1825)) });
  const names: string[] = [];
  const leafPems: string[] = [];
  for (let i = 0; i < count; i++) {
    const name = fleetName(i);
    const leaf = await createCertificate({ subjectCn: name, key: leafKey, issuer: intermediate, notAfter });
    names.push(name);
    leafPems.push(leaf.pem);
  }
  const certs: FleetCerts = {
    version: FORMAT_VERSION,
    createdAt: new Date().toISOString(),
    notAfter: notAfter.getTime(),
    rootPem: root.pem,
    intermediatePem: intermediate.pem,
    leafKeyPem: leafKey.privateKeyPem,
    names,
    leafPems,
  };
  mkdirSync(cacheDir, { recursive: true });
  // Write then rename: an interrupted run must not leave a truncated cache that looks valid.
  writeFileSync(`${path}.tmp`, JSON.stringify(certs));
  renameSync(`${path}.tmp`, path);
  return { certs, path, generatedMs: performance.now() - started };
}
