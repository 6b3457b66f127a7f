/**
 * min_version, max_version, check_versions, cert_file and key_file, in `defaults:` or on a
 * target: how the prober speaks TLS to the target. A key set on a target replaces the default's
 * value; cert_file and key_file go together, and a target setting either replaces both.
 */
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { resolve } from 'node:path';
import type { SecureVersion } from 'node:tls';
import { Type } from '@sinclair/typebox';
import { derToPem } from '../pki/pem';
import type { ClientCertificate } from '../probing/secure-contexts';
import { Secret } from '../web/secret';
import { TLS_VERSIONS, type TlsVersionName } from '../web/web-config-schema';
import { errorCode, parseCertificates, type ReadFile } from './ca-file';
import type { PathSegment } from './yaml-locator';

const VERSION_NAMES = Object.keys(TLS_VERSIONS) as TlsVersionName[];

export function tlsVersionSchema(description: string) {
  return Type.Union(VERSION_NAMES.map((name) => Type.Literal(name)), { description: `${description} TLS10, TLS11, TLS12 or TLS13, as in blackbox_exporter.` });
}

export function checkVersionsSchema(description: string) {
  return Type.Array(Type.Union(VERSION_NAMES.map((name) => Type.Literal(name))), {
    description: `${description} After each successful probe, one handshake per listed version, offering that version alone; certexp_tls_protocol_accepted says which the server completed. Empty: no checks.`,
    examples: [['TLS10', 'TLS11']],
  });
}

export function pemFileSchema(description: string) {
  return Type.String({ minLength: 1, description: `${description} A relative path is resolved against the config file's directory.` });
}

/** A client certificate as configured: the files it came from and when its leaf expires. */
export interface ClientCertificateConfig extends ClientCertificate {
  readonly certFile: string;
  readonly keyFile: string;
  /** notAfter of the leaf, epoch milliseconds. */
  readonly notAfter: number;
}

export interface TlsSettings {
  readonly minVersion?: SecureVersion;
  readonly maxVersion?: SecureVersion;
  readonly checkVersions?: readonly SecureVersion[];
  readonly clientCertificate?: ClientCertificateConfig;
}

type Reporter = (path: readonly PathSegment[], message: string) => void;

export type ClientCertificateResult =
  | { readonly certificate: ClientCertificateConfig }
  | { readonly error: string; readonly key: 'cert_file' | 'key_file' };

export type ReadClientCertificate = (certFile: string, keyFile: string) => Promise<ClientCertificateResult>;

async function readText(path: string, readFile: ReadFile): Promise<{ text: string } | { error: string }> {
  try {
    return { text: await readFile(path) };
  } catch (error) {
    return { error: `cannot read "${path}": ${errorCode(error)}` };
  }
}

function privateKey(text: string): KeyObject | undefined {
  try {
    return createPrivateKey(text);
  } catch {
    // OpenSSL's reason (bad decrypt, unsupported) adds nothing a person can act on here.
    return undefined;
  }
}

async function loadClientCertificate(certFile: string, keyFile: string, readFile: ReadFile): Promise<ClientCertificateResult> {
  const certText = await readText(certFile, readFile);
  if ('error' in certText) return { error: certText.error, key: 'cert_file' };
  const parsed = parseCertificates(certText.text, `"${certFile}"`);
  if ('error' in parsed) return { error: parsed.error, key: 'cert_file' };
  const keyText = await readText(keyFile, readFile);
  if ('error' in keyText) return { error: keyText.error, key: 'key_file' };
  const key = privateKey(keyText.text);
  if (key === undefined) return { error: `"${keyFile}" holds no unencrypted PEM private key`, key: 'key_file' };
  const leaf = new X509Certificate(parsed.certificates[0] ?? Buffer.alloc(0));
  if (!leaf.checkPrivateKey(key)) return { error: `the private key in "${keyFile}" does not belong to the certificate in "${certFile}"`, key: 'key_file' };
  return {
    certificate: Object.freeze({
      certFile,
      keyFile,
      certificatePem: parsed.certificates.map((der) => derToPem(der)).join(''),
      key: new Secret(keyText.text),
      notAfter: Date.parse(leaf.validTo),
    }),
  };
}

/** A reader that loads each certificate and key pair once per config load; make one per load so renewals are seen on reload. */
export function cachedClientCertificateReader(readFile: ReadFile): ReadClientCertificate {
  const cache = new Map<string, Promise<ClientCertificateResult>>();
  return (certFile, keyFile) => {
    const key = JSON.stringify([certFile, keyFile]);
    let result = cache.get(key);
    if (result === undefined) {
      result = loadClientCertificate(certFile, keyFile, readFile);
      cache.set(key, result);
    }
    return result;
  };
}

export interface TlsContext {
  readonly configDir: string;
  readonly readClientCertificate: ReadClientCertificate;
}

function versionOf(raw: unknown): SecureVersion | undefined {
  return typeof raw === 'string' && raw in TLS_VERSIONS ? TLS_VERSIONS[raw as TlsVersionName] : undefined;
}

function nameOf(version: SecureVersion): string {
  return VERSION_NAMES.find((name) => TLS_VERSIONS[name] === version) ?? version;
}

/** The version list, in TLS order without repeats; undefined when absent or rejected by the schema (reported there). */
function versionList(raw: unknown): readonly SecureVersion[] | undefined {
  if (!Array.isArray(raw)) return undefined;
  const versions = (raw as unknown[]).map(versionOf);
  if (versions.includes(undefined)) return undefined;
  return Object.freeze(VERSION_NAMES.map((name) => TLS_VERSIONS[name]).filter((v) => versions.includes(v)));
}

/**
 * What these keys of `raw` say, on top of `inherited`. A problem goes to `report`, and the
 * setting it concerns is dropped: loadConfig fails on any finding, so nothing half-set runs.
 */
export async function readTlsSettings(
  raw: Readonly<Record<string, unknown>>,
  at: (key: string) => PathSegment[],
  inherited: TlsSettings,
  report: Reporter,
  context: TlsContext,
): Promise<TlsSettings> {
  const minVersion = raw.min_version === undefined ? inherited.minVersion : versionOf(raw.min_version);
  const maxVersion = raw.max_version === undefined ? inherited.maxVersion : versionOf(raw.max_version);
  const order = (version: SecureVersion): number => Object.values(TLS_VERSIONS).indexOf(version);
  if (minVersion !== undefined && maxVersion !== undefined && order(minVersion) > order(maxVersion)) {
    const here = raw.max_version === undefined ? 'min_version' : 'max_version';
    report(at(here), `min_version ${nameOf(minVersion)} is above max_version ${nameOf(maxVersion)}`);
  }
  const checkVersions = raw.check_versions === undefined ? inherited.checkVersions : versionList(raw.check_versions);

  let clientCertificate = inherited.clientCertificate;
  if (raw.cert_file !== undefined || raw.key_file !== undefined) {
    clientCertificate = undefined;
    if (raw.key_file === undefined) report(at('cert_file'), 'cert_file needs key_file, the private key of the certificate');
    else if (raw.cert_file === undefined) report(at('key_file'), 'key_file needs cert_file, the certificate of the key');
    else if (typeof raw.cert_file === 'string' && typeof raw.key_file === 'string' && raw.cert_file !== '' && raw.key_file !== '') {
      const loaded = await context.readClientCertificate(resolve(context.configDir, raw.cert_file), resolve(context.configDir, raw.key_file));
      if ('error' in loaded) report(at(loaded.key), loaded.error);
      else clientCertificate = loaded.certificate;
    }
  }
  return Object.freeze({
    ...(minVersion === undefined ? {} : { minVersion }),
    ...(maxVersion === undefined ? {} : { maxVersion }),
    ...(checkVersions === undefined ? {} : { checkVersions }),
    ...(clientCertificate === undefined ? {} : { clientCertificate }),
  });
}
