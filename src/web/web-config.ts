/**
 * The web config (`--web.config.file`): TLS and basic auth for certexp's own HTTP endpoint, in
 * the Prometheus exporter-toolkit format, so the file an operator already writes for
 * node_exporter works here too. Loaded like certexp.yml: unknown keys are errors, every problem
 * is reported at once with file, line and key, and nothing is half-applied.
 *
 * No message quotes a secret: the inline key and the bcrypt hashes (or the password someone
 * wrote in place of a hash) are never echoed, and both are held as Secret afterwards.
 */
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFile as fsReadFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { SecureVersion } from 'node:tls';
import { Value } from '@sinclair/typebox/value';
import { errorCode, parseCertificates, type ReadFile } from '../config/ca-file';
import { parseDuration } from '../config/duration';
import { durationMessage, schemaFindings, showValue } from '../config/schema-findings';
import { fail, readYamlFile } from '../config/yaml-file';
import type { Finding, PathSegment } from '../config/yaml-locator';
import { derToPem } from '../pki/pem';
import { Secret } from './secret';
import {
  CIPHER_SUITES,
  CONFIGURABLE_HEADERS,
  CURVES,
  HttpServerSchema,
  RateLimitSchema,
  TLS_VERSIONS,
  TlsServerSchema,
  WebConfigSchema,
  type ClientAuthName,
  type TlsVersionName,
} from './web-config-schema';

/** RequireClientCert is only the old spelling of RequireAnyClientCert. */
export type ClientAuthType = Exclude<ClientAuthName, 'RequireClientCert'>;

export interface WebTlsConfig {
  /** The server's chain, PEM, leaf first. */
  readonly cert: string;
  readonly key: Secret;
  /** PEM; present whenever clientAuth verifies certificates. */
  readonly clientCa?: string;
  readonly clientAuth: ClientAuthType;
  /** A client certificate must carry one of these SANs (canonical IP spelling). */
  readonly clientAllowedSans?: readonly string[];
  readonly minVersion: SecureVersion;
  readonly maxVersion: SecureVersion;
  /** OpenSSL cipher list for TLS 1.2 and below; undefined keeps Node's default. */
  readonly ciphers?: string;
  /** OpenSSL group list; undefined keeps Node's default. */
  readonly ecdhCurve?: string;
  readonly honorCipherOrder: boolean;
}

export interface RateLimit {
  readonly intervalMs: number;
  readonly burst: number;
}

export interface WebConfig {
  readonly file: string;
  /** undefined: plain HTTP. */
  readonly tls?: WebTlsConfig;
  /** Added to every response. */
  readonly headers: Readonly<Record<string, string>>;
  /** User name to bcrypt hash; empty: no basic auth. */
  readonly users: ReadonlyMap<string, Secret>;
  readonly rateLimit?: RateLimit;
}

/** $2a$, $2b$ (and $2y$ from htpasswd), a two-digit cost from 04 to 31, 22 characters of salt and 31 of hash. */
const BCRYPT_HASH = /^\$2[aby]\$(?:0[4-9]|[12][0-9]|3[01])\$[./A-Za-z0-9]{53}$/;

const VERIFYING: readonly ClientAuthType[] = ['VerifyClientCertIfGiven', 'RequireAndVerifyClientCert'];
const REQUIRING: readonly ClientAuthType[] = ['RequireAnyClientCert', 'RequireAndVerifyClientCert'];
const VERSION_ORDER: readonly TlsVersionName[] = ['TLS10', 'TLS11', 'TLS12', 'TLS13'];

const defaultReader: ReadFile = (path) => fsReadFile(path, 'utf8');

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** IP SANs in one spelling, so "0:0:0:0:0:0:0:1" (as certificates print) matches "::1". */
export function canonicalSan(value: string): string {
  if (/^[0-9a-f:.]+$/i.test(value) && value.includes(':')) {
    try {
      return new URL(`http://[${value}]/`).hostname.slice(1, -1);
    } catch {
      return value;
    }
  }
  return value;
}

/** Go's YAML decoding treats a section left empty (`basic_auth_users:` with nothing under it) as absent. */
function withoutEmptySections(data: unknown): unknown {
  if (data === null || data === undefined) return {};
  if (!isRecord(data)) return data;
  return Object.fromEntries(Object.entries(data).filter(([, value]) => value !== null));
}

/** A text that may come inline or from a file. */
interface Source {
  readonly text: string;
  /** How messages name it: `"/etc/certexp/server.key"` or `key`. */
  readonly name: string;
  readonly path: readonly PathSegment[];
}

class WebConfigResolver {
  readonly findings: Finding[] = [];

  constructor(
    private readonly dir: string,
    private readonly readFile: ReadFile,
  ) {}

  report(path: readonly PathSegment[], message: string, at: 'key' | 'value' = 'value'): void {
    this.findings.push({ path, at, message });
  }

  async tls(raw: unknown): Promise<WebTlsConfig | undefined> {
    if (!isRecord(raw)) return undefined;
    const at = (key: string): PathSegment[] => ['tls_server_config', key];
    const given = (key: string): boolean => raw[key] !== undefined;
    const valid = (key: keyof typeof TlsServerSchema.properties): boolean => given(key) && Value.Check(TlsServerSchema.properties[key], raw[key]);

    const clientAuthName = valid('client_auth_type') ? (raw.client_auth_type as ClientAuthName) : 'NoClientCert';
    const clientAuth: ClientAuthType = clientAuthName === 'RequireClientCert' ? 'RequireAnyClientCert' : clientAuthName;

    const certificates = this.certificates(await this.source(raw, 'cert', 'cert_file', true));
    const key = this.privateKey(await this.source(raw, 'key', 'key_file', true));
    const leaf = certificates?.[0];
    if (leaf !== undefined && key !== undefined && !new X509Certificate(leaf).checkPrivateKey(key.object)) {
      const cert = given('cert_file') ? `"${this.path(raw.cert_file)}"` : 'cert';
      this.report(key.source.path, `the private key in ${key.source.name} does not belong to the certificate in ${cert}`);
    }

    const caKey = given('client_ca_file') ? 'client_ca_file' : given('client_ca') ? 'client_ca' : undefined;
    const clientCa = this.certificates(await this.source(raw, 'client_ca', 'client_ca_file', false));
    if (caKey !== undefined && clientAuth === 'NoClientCert') {
      this.report(at(caKey), `client certificates are never asked for with client_auth_type ${clientAuthName}: set client_auth_type: RequireAndVerifyClientCert, or drop ${caKey}`);
    }
    if (caKey === undefined && valid('client_auth_type') && VERIFYING.includes(clientAuth)) {
      this.report(at('client_auth_type'), `${clientAuthName} verifies client certificates against client_ca_file or client_ca: set one of them`);
    }

    const sans = valid('client_allowed_sans') ? (raw.client_allowed_sans as string[]) : undefined;
    if (sans !== undefined && !REQUIRING.includes(clientAuth)) {
      this.report(at('client_allowed_sans'), 'client_allowed_sans needs client_auth_type RequireAnyClientCert or RequireAndVerifyClientCert: otherwise a client can connect without a certificate');
    }

    const minName = valid('min_version') ? (raw.min_version as TlsVersionName) : 'TLS12';
    const maxName = valid('max_version') ? (raw.max_version as TlsVersionName) : 'TLS13';
    if (VERSION_ORDER.indexOf(minName) > VERSION_ORDER.indexOf(maxName)) {
      this.report(at(given('max_version') ? 'max_version' : 'min_version'), `min_version ${minName} is above max_version ${maxName}`);
    }

    const ciphers = valid('cipher_suites') ? this.ciphers(raw.cipher_suites as string[]) : undefined;
    const curves = valid('curve_preferences') ? (raw.curve_preferences as (keyof typeof CURVES)[]).map((name) => CURVES[name]) : [];

    if (certificates === undefined || key === undefined || (caKey !== undefined && clientCa === undefined)) return undefined;
    return {
      cert: certificates.map((der) => derToPem(der)).join(''),
      key: key.secret,
      ...(clientCa === undefined ? {} : { clientCa: clientCa.map((der) => derToPem(der)).join('') }),
      clientAuth,
      ...(sans === undefined ? {} : { clientAllowedSans: Object.freeze(sans.map(canonicalSan)) }),
      minVersion: TLS_VERSIONS[minName],
      maxVersion: TLS_VERSIONS[maxName],
      ...(ciphers === undefined || ciphers === '' ? {} : { ciphers }),
      ...(curves.length === 0 ? {} : { ecdhCurve: curves.join(':') }),
      honorCipherOrder: raw.prefer_server_cipher_suites !== false,
    };
  }

  headers(raw: unknown): Record<string, string> {
    if (!isRecord(raw) || !Value.Check(HttpServerSchema, raw) || raw.headers === undefined) return {};
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(raw.headers)) {
      const path = ['http_server_config', 'headers', name];
      const allowed = CONFIGURABLE_HEADERS[name];
      if (allowed === undefined) {
        this.report(path, `HTTP header "${name}" can not be configured (allowed: ${Object.keys(CONFIGURABLE_HEADERS).join(', ')})`, 'key');
      } else if (allowed !== null && value !== '' && !allowed.includes(value)) {
        this.report(path, `expected one of ${allowed.map((v) => JSON.stringify(v)).join(', ')}, got ${showValue(value)}`);
      } else if (value !== '') {
        // exporter-toolkit: a header left blank is not sent.
        headers[name] = value;
      }
    }
    return headers;
  }

  users(raw: unknown): Map<string, Secret> {
    const users = new Map<string, Secret>();
    if (!isRecord(raw)) return users;
    for (const [user, hash] of Object.entries(raw)) {
      const path = ['basic_auth_users', user];
      if (user.includes(':')) {
        this.report(path, `user name ${JSON.stringify(user)} cannot contain ":": basic auth splits user and password at the first one`, 'key');
      }
      if (typeof hash !== 'string' || !BCRYPT_HASH.test(hash)) {
        // Never quote the value: it is as likely to be a password written where the hash goes.
        this.report(path, 'not a bcrypt hash ($2a$, $2b$ or $2y$, a cost from 04 to 31, 53 more characters): put the hash of the password here, never the password, e.g. from htpasswd -nBC 10 "" | tr -d \':\\n\'');
        continue;
      }
      users.set(user, new Secret(hash));
    }
    return users;
  }

  rateLimit(raw: unknown): RateLimit | undefined {
    if (!isRecord(raw) || raw.interval === undefined) return undefined;
    const path = ['rate_limit', 'interval'];
    const interval = raw.interval;
    const intervalMs = interval === 0 || interval === '0' ? 0 : typeof interval === 'string' ? parseDuration(interval) : undefined;
    if (intervalMs === undefined) {
      this.report(path, durationMessage(interval).replace(/\)$/, ', or 0 for no limit)'));
      return undefined;
    }
    if (intervalMs === 0) return undefined;
    const burst: unknown = raw.burst ?? 0;
    // A burst of the wrong type was reported by the schema.
    if (!Value.Check(RateLimitSchema.properties.burst, burst)) return undefined;
    if (burst === 0) {
      this.report(['rate_limit', raw.burst === undefined ? 'interval' : 'burst'], 'burst must be at least 1 when interval is set, or no request would ever be answered');
      return undefined;
    }
    return { intervalMs, burst };
  }

  /** Exactly one of the inline key and the file key; undefined (reported when required) otherwise. */
  private async source(raw: Record<string, unknown>, inline: string, file: string, required: boolean): Promise<Source | undefined> {
    const text = raw[inline];
    const path = raw[file];
    if (text !== undefined && path !== undefined) {
      this.report(['tls_server_config', file], `set ${inline} or ${file}, not both`, 'key');
      return undefined;
    }
    if (text === undefined && path === undefined) {
      if (required) this.report(['tls_server_config'], `missing one of ${inline} or ${file}`);
      return undefined;
    }
    // The schema has reported a wrong type already, except for the secret key, which it does not look at.
    if (text !== undefined) {
      if (typeof text === 'string' && text !== '') return { text, name: inline, path: ['tls_server_config', inline] };
      if (inline === 'key') this.report(['tls_server_config', inline], 'expected a PEM private key');
      return undefined;
    }
    if (typeof path !== 'string' || path === '') return undefined;
    const absolute = this.path(path);
    try {
      return { text: await this.readFile(absolute), name: `"${absolute}"`, path: ['tls_server_config', file] };
    } catch (error) {
      this.report(['tls_server_config', file], `cannot read "${absolute}": ${errorCode(error)}`);
      return undefined;
    }
  }

  private path(value: unknown): string {
    return resolve(this.dir, String(value));
  }

  private certificates(source: Source | undefined): readonly Buffer[] | undefined {
    if (source === undefined) return undefined;
    const result = parseCertificates(source.text, source.name);
    if ('error' in result) {
      this.report(source.path, result.error);
      return undefined;
    }
    return result.certificates;
  }

  private privateKey(source: Source | undefined): { object: KeyObject; secret: Secret; source: Source } | undefined {
    if (source === undefined) return undefined;
    try {
      return { object: createPrivateKey(source.text), secret: new Secret(source.text), source };
    } catch {
      // OpenSSL's reason (bad decrypt, unsupported) adds nothing a person can act on here.
      this.report(source.path, `${source.name} holds no unencrypted PEM private key`);
      return undefined;
    }
  }

  private ciphers(names: readonly string[]): string | undefined {
    const unknown = names.flatMap((name, index) => (CIPHER_SUITES[name] === undefined ? [index] : []));
    for (const index of unknown) {
      this.report(['tls_server_config', 'cipher_suites', index], `unknown cipher suite ${showValue(names[index])}: use Go's names, e.g. TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 (every one: docs/web-config.md)`);
    }
    if (unknown.length > 0) return undefined;
    return names.flatMap((name) => CIPHER_SUITES[name] ?? []).join(':');
  }
}

/** The web config at file, or a ConfigError naming file, line and key of every problem. */
export async function loadWebConfig(file: string, readFile: ReadFile = defaultReader): Promise<WebConfig> {
  const parsed = await readYamlFile(file, readFile, 'web config file');
  const data = withoutEmptySections(parsed.data);
  const findings = schemaFindings(WebConfigSchema, data);
  const sections = isRecord(data) ? data : {};
  const resolver = new WebConfigResolver(dirname(file), readFile);
  const tls = await resolver.tls(sections.tls_server_config);
  const headers = resolver.headers(sections.http_server_config);
  const users = resolver.users(sections.basic_auth_users);
  const rateLimit = resolver.rateLimit(sections.rate_limit);

  const issues = [...findings, ...resolver.findings].map((finding) => parsed.locator.issue(finding));
  if (issues.length > 0) fail(issues);
  return Object.freeze({
    file,
    ...(tls === undefined ? {} : { tls: Object.freeze(tls) }),
    headers: Object.freeze(headers),
    users,
    ...(rateLimit === undefined ? {} : { rateLimit: Object.freeze(rateLimit) }),
  });
}

/** One line for the startup log and --config.check: what the web config turns on, no secrets. */
export function describeWebConfig(config: WebConfig): string {
  const parts = [config.tls === undefined ? 'plain HTTP' : `TLS (client certificates: ${config.tls.clientAuth})`];
  parts.push(config.users.size === 0 ? 'no basic auth' : `basic auth for ${config.users.size} user${config.users.size === 1 ? '' : 's'}`);
  if (config.rateLimit !== undefined) parts.push(`at most ${config.rateLimit.burst} requests at once, one per ${config.rateLimit.intervalMs}ms after that`);
  return parts.join(', ');
}
