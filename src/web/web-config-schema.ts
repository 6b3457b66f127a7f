/**
 * The shape of the web config file, in the Prometheus exporter-toolkit format
 * (docs/web-configuration.md there, docs/web-config.md here), and the tables that translate its
 * Go names into what Node's TLS takes. Values that are secrets (the inline key, the bcrypt
 * hashes) are typed Unknown here and checked by hand, so no schema message can quote them.
 */
import { Type, type TLiteral, type TUnion } from '@sinclair/typebox';
import type { SecureVersion } from 'node:tls';

/** Closed sets are checked here; the code that reads them narrows the type itself. */
function oneOf(values: readonly string[], description: string): TUnion<TLiteral<string>[]> {
  return Type.Union(values.map((value) => Type.Literal(value)), { description });
}

export const TLS_VERSIONS = { TLS10: 'TLSv1', TLS11: 'TLSv1.1', TLS12: 'TLSv1.2', TLS13: 'TLSv1.3' } as const satisfies Record<string, SecureVersion>;
export type TlsVersionName = keyof typeof TLS_VERSIONS;
const TLS_VERSION_NAMES = ['TLS10', 'TLS11', 'TLS12', 'TLS13'] as const satisfies readonly TlsVersionName[];

/** Go's crypto/tls policies; RequireClientCert is the old name exporter-toolkit still accepts. */
export const CLIENT_AUTH_TYPES = [
  'NoClientCert',
  'RequestClientCert',
  'RequireAnyClientCert',
  'RequireClientCert',
  'VerifyClientCertIfGiven',
  'RequireAndVerifyClientCert',
] as const;
export type ClientAuthName = (typeof CLIENT_AUTH_TYPES)[number];

/**
 * Go's tls.CipherSuites() names for TLS 1.0 to 1.2, to OpenSSL's. The TLS 1.3 suites are accepted
 * and ignored, as Go ignores them: TLS 1.3 always offers its own three.
 */
export const CIPHER_SUITES: Readonly<Record<string, string | null>> = {
  TLS_RSA_WITH_AES_128_CBC_SHA: 'AES128-SHA',
  TLS_RSA_WITH_AES_256_CBC_SHA: 'AES256-SHA',
  TLS_RSA_WITH_AES_128_GCM_SHA256: 'AES128-GCM-SHA256',
  TLS_RSA_WITH_AES_256_GCM_SHA384: 'AES256-GCM-SHA384',
  TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA: 'ECDHE-ECDSA-AES128-SHA',
  TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA: 'ECDHE-ECDSA-AES256-SHA',
  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA: 'ECDHE-RSA-AES128-SHA',
  TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA: 'ECDHE-RSA-AES256-SHA',
  TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: 'ECDHE-ECDSA-AES128-GCM-SHA256',
  TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: 'ECDHE-ECDSA-AES256-GCM-SHA384',
  TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: 'ECDHE-RSA-AES128-GCM-SHA256',
  TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: 'ECDHE-RSA-AES256-GCM-SHA384',
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-RSA-CHACHA20-POLY1305',
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-ECDSA-CHACHA20-POLY1305',
  TLS_AES_128_GCM_SHA256: null,
  TLS_AES_256_GCM_SHA384: null,
  TLS_CHACHA20_POLY1305_SHA256: null,
};

/** Go's curve names to OpenSSL's group names. */
export const CURVES = { CurveP256: 'P-256', CurveP384: 'P-384', CurveP521: 'P-521', X25519: 'X25519' } as const;
const CURVE_NAMES = ['CurveP256', 'CurveP384', 'CurveP521', 'X25519'] as const satisfies readonly (keyof typeof CURVES)[];

/**
 * The response headers exporter-toolkit lets a web config set, with the values allowed where
 * they form a closed set (null: any value).
 */
export const CONFIGURABLE_HEADERS: Readonly<Record<string, readonly string[] | null>> = {
  'Strict-Transport-Security': null,
  'X-Content-Type-Options': ['nosniff'],
  'X-Frame-Options': ['deny', 'sameorigin'],
  'X-XSS-Protection': null,
  'Content-Security-Policy': null,
};

const path = (description: string) => Type.String({ minLength: 1, description: `${description} Relative paths are resolved against the web config file's directory.` });
const pem = (description: string) => Type.String({ minLength: 1, description });

export const TlsServerSchema = Type.Object(
  {
    cert: Type.Optional(pem('The server certificate chain, PEM, leaf first; instead of cert_file.')),
    key: Type.Optional(Type.Unknown({ description: "The server certificate's private key, PEM; instead of key_file." })),
    client_ca: Type.Optional(pem('CA certificates client certificates are verified against, PEM; instead of client_ca_file.')),
    cert_file: Type.Optional(path('File with the server certificate chain, PEM, leaf first.')),
    key_file: Type.Optional(path("File with the server certificate's private key, PEM.")),
    client_auth_type: Type.Optional(oneOf(CLIENT_AUTH_TYPES, 'Whether clients must present a certificate, and whether it is verified. Default NoClientCert.')),
    client_ca_file: Type.Optional(path('File with the CA certificates client certificates are verified against.')),
    client_allowed_sans: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { description: 'A client certificate must carry one of these SANs.' })),
    min_version: Type.Optional(oneOf(TLS_VERSION_NAMES, 'Lowest TLS version accepted. Default TLS12.')),
    max_version: Type.Optional(oneOf(TLS_VERSION_NAMES, 'Highest TLS version accepted. Default TLS13.')),
    cipher_suites: Type.Optional(Type.Array(Type.String(), { description: "Go's names of the TLS 1.2 cipher suites to offer." })),
    prefer_server_cipher_suites: Type.Optional(Type.Boolean({ description: 'Pick the cipher suite by the order of cipher_suites. Default true.' })),
    curve_preferences: Type.Optional(Type.Array(oneOf(CURVE_NAMES, 'An ECDHE curve, by its Go name.'))),
  },
  { additionalProperties: false, description: 'Serve HTTPS instead of HTTP.' },
);

export const HttpServerSchema = Type.Object(
  {
    http2: Type.Optional(Type.Boolean({ description: 'Accepted for compatibility; certexp serves HTTP/1.1.' })),
    headers: Type.Optional(Type.Record(Type.String(), Type.String(), { description: 'Response headers to add to every answer.' })),
  },
  { additionalProperties: false },
);

export const RateLimitSchema = Type.Object(
  {
    interval: Type.Optional(Type.Unknown({ description: 'One request per this duration on average; 0 turns the limit off.' })),
    burst: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000, description: 'Requests allowed at once.' })),
  },
  { additionalProperties: false },
);

export const WebConfigSchema = Type.Object(
  {
    tls_server_config: Type.Optional(TlsServerSchema),
    http_server_config: Type.Optional(HttpServerSchema),
    basic_auth_users: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'User names to bcrypt hashes of their passwords.' })),
    rate_limit: Type.Optional(RateLimitSchema),
  },
  { additionalProperties: false },
);
