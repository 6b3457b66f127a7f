/**
 * The one description of certexp.yml: TypeBox gives the static input types, the validation in
 * loadConfig, and the JSON Schema published as config/certexp.schema.json for editors.
 *
 * Regenerate the published file after changing this one (a test fails until you do):
 *   npx tsc -p tsconfig.build.json && node -e "require('fs').writeFileSync('config/certexp.schema.json', require('./dist/config/config-schema').schemaJson())"
 */
import { Type, type Static } from '@sinclair/typebox';
import { STARTTLS_DEFAULT_PORTS, STARTTLS_PROTOCOLS } from '../probing/starttls/upgrade';
import { POSITIVE_DURATION_PATTERN } from './duration';
import { allowSchema, denySchema } from './probe-config';
import { addressesSchema, addressSchema, proxyUrlSchema } from './route-config';
import { checkVersionsSchema, pemFileSchema, tlsVersionSchema } from './tls-config';

/** What a target gets when neither it nor `defaults:` says otherwise. */
export const BUILT_IN_DEFAULTS = { interval: '5m', timeout: '10s', port: 443, policy: 'web' } as const;

/** How often a `files:` entry is read when it says nothing: reading a file costs next to nothing. */
export const FILES_DEFAULT_INTERVAL = '1m';

// Each field builds its own schema object: TypeBox does not share nodes, and each one carries
// its own description for editor hovers.
// A target's durations have no fixed default (they inherit defaults.*), so only those get one.
function duration(description: string, builtIn?: string) {
  return Type.String({
    pattern: POSITIVE_DURATION_PATTERN,
    description: `${description} Integer amounts with units ms, s, m, h, d, w, largest first: 500ms, 10s, 5m, 1h30m, 1d.`,
    ...(builtIn === undefined ? {} : { default: builtIn }),
    examples: ['500ms', '10s', '5m', '1h', '1d'],
  });
}

function caFile(description: string) {
  return Type.String({
    minLength: 1,
    description: `${description} PEM bundle of extra trust anchors; a relative path is resolved against the config file's directory.`,
  });
}

function policy(description: string) {
  return Type.Union([Type.Literal('web'), Type.Literal('rfc5280')], {
    description: `${description} web: RFC 5280 plus the CA/Browser Forum rules (key sizes, SHA-1, serials); rfc5280: RFC 5280 alone, for private PKIs that predate those rules.`,
  });
}

// Expectations of the chain (src/config/expectations-config.ts checks each entry's syntax).
function expectedFingerprints(description: string) {
  return Type.Array(Type.String({ minLength: 1 }), {
    description: `${description} SHA-256 of the leaf certificate or of its public key (SPKI), 64 hex digits, colons allowed; the leaf must match one, else pin_mismatch. An empty list pins nothing.`,
  });
}

function allowedIssuers(description: string) {
  return Type.Array(Type.String({ minLength: 1 }), {
    description: `${description} CAs by subject (CN=R3, O=Let's Encrypt, C=US) or SHA-256 of the CA certificate or its key; a CA on the verified chain must match one, else issuer_not_allowed. An empty list allows any.`,
    examples: [["CN=R3, O=Let's Encrypt, C=US"]],
  });
}

function maxValidity(description: string) {
  return duration(`${description} Longest validity period (notBefore to notAfter, both inclusive) the leaf may have, else validity_too_long; the CA/Browser Forum limit is 398d.`);
}

function starttls() {
  const ports = STARTTLS_PROTOCOLS.map((p) => `${p} ${STARTTLS_DEFAULT_PORTS[p]}`).join(', ');
  return Type.Union(STARTTLS_PROTOCOLS.map((p) => Type.Literal(p)), {
    description: `Speak this protocol's plain-text upgrade (STARTTLS, STLS, AUTH TLS, SSLRequest) before the TLS handshake. The port then defaults to the protocol's: ${ports}.`,
  });
}

function crl(description: string) {
  return Type.Union([Type.Literal('distribution_point'), Type.Literal('none')], {
    description: `${description} none (default): no CRL check; distribution_point: fetch the CRL the leaf names (cRLDistributionPoints, http:// only, at most 10 MB), verify it with the leaf's issuer and keep it until its nextUpdate. A revoked leaf fails with revoked; a CRL that cannot be had is status error, never a failed probe.`,
  });
}

function ocsp(description: string) {
  return Type.Union([Type.Literal('stapled'), Type.Literal('responder'), Type.Literal('none')], {
    description: `${description} stapled (default): judge an OCSP response the server staples; responder: also ask the OCSP responder the leaf names (authorityInfoAccess) when none usable is stapled, keeping answers until their nextUpdate; none: no revocation check. A revoked leaf fails with revoked.`,
  });
}

export const DefaultsSchema = Type.Object(
  {
    interval: Type.Optional(duration('How often each target is probed.', BUILT_IN_DEFAULTS.interval)),
    timeout: Type.Optional(duration('Budget for the whole probe: DNS, TCP, TLS and verification. At most the interval.', BUILT_IN_DEFAULTS.timeout)),
    ca_file: Type.Optional(caFile('Trust anchors for every target that sets no ca_file of its own.')),
    policy: Type.Optional(policy('Verification profile for every target that sets none; default web.')),
    expected_fingerprints: Type.Optional(expectedFingerprints('Pins for every target that sets none of its own.')),
    allowed_issuers: Type.Optional(allowedIssuers('Allowed CAs for every target that sets none of its own.')),
    max_validity: Type.Optional(maxValidity('For every target that sets none of its own.')),
    ocsp: Type.Optional(ocsp('Revocation check for every target that sets none.')),
    crl: Type.Optional(crl('CRL check for every target that sets none.')),
    min_version: Type.Optional(tlsVersionSchema('Lowest TLS version offered to every target that sets none; default TLS10, to see what old servers pick.')),
    max_version: Type.Optional(tlsVersionSchema('Highest TLS version offered to every target that sets none; default TLS13.')),
    check_versions: Type.Optional(checkVersionsSchema('For every target that sets none of its own.')),
    cert_file: Type.Optional(pemFileSchema('Client certificate (PEM, leaf first) presented to every target that sets none, when the server asks for one; needs key_file.')),
    key_file: Type.Optional(pemFileSchema('Unencrypted PEM private key of cert_file.')),
    proxy_url: Type.Optional(proxyUrlSchema('For every target that sets none.')),
    addresses: Type.Optional(addressesSchema('For every target that sets none; default first.')),
  },
  { additionalProperties: false, description: 'Values for every target that does not set them itself.' },
);

export const TargetSchema = Type.Object(
  {
    host: Type.String({
      minLength: 1,
      description: 'DNS name or IP literal (IPv6 may be written as [::1]). No scheme, path or port: the port goes in port.',
      examples: ['example.com', '192.0.2.10', '[2001:db8::1]'],
    }),
    port: Type.Optional(Type.Integer({
      minimum: 1,
      maximum: 65535,
      default: BUILT_IN_DEFAULTS.port,
      description: 'TCP port of the TLS service; default 443, or the starttls protocol\'s port.',
    })),
    server_name: Type.Optional(
      Type.String({ minLength: 1, description: 'SNI sent in the handshake and the name checked against the certificate. Defaults to host.' }),
    ),
    name: Type.Optional(
      Type.String({ minLength: 1, description: 'The `target` label on every metric; unique in the file. Defaults to host:port ([v6]:port for IPv6).' }),
    ),
    interval: Type.Optional(duration('How often this target is probed; overrides defaults.interval.')),
    timeout: Type.Optional(duration('Budget for the whole probe; overrides defaults.timeout. At most the interval.')),
    ca_file: Type.Optional(caFile('Trust anchors for this target; replaces defaults.ca_file.')),
    policy: Type.Optional(policy('Verification profile for this target; overrides defaults.policy.')),
    expected_fingerprints: Type.Optional(expectedFingerprints('Pins for this target; replace defaults.expected_fingerprints.')),
    allowed_issuers: Type.Optional(allowedIssuers('Allowed CAs for this target; replace defaults.allowed_issuers.')),
    max_validity: Type.Optional(maxValidity('For this target; overrides defaults.max_validity.')),
    ocsp: Type.Optional(ocsp('Revocation check for this target; overrides defaults.ocsp.')),
    crl: Type.Optional(crl('CRL check for this target; overrides defaults.crl.')),
    starttls: Type.Optional(starttls()),
    min_version: Type.Optional(tlsVersionSchema('Lowest TLS version offered; overrides defaults.min_version.')),
    max_version: Type.Optional(tlsVersionSchema('Highest TLS version offered; overrides defaults.max_version.')),
    check_versions: Type.Optional(checkVersionsSchema('Replaces defaults.check_versions.')),
    cert_file: Type.Optional(pemFileSchema('Client certificate (PEM, leaf first) presented when the server asks for one (mutual TLS); needs key_file; replaces the defaults\' pair.')),
    key_file: Type.Optional(pemFileSchema('Unencrypted PEM private key of cert_file.')),
    address: Type.Optional(addressSchema()),
    proxy_url: Type.Optional(proxyUrlSchema('Replaces defaults.proxy_url; `direct` for none.')),
    addresses: Type.Optional(addressesSchema('Overrides defaults.addresses.')),
  },
  { additionalProperties: false, description: 'One TLS endpoint to probe.' },
);

export const FileSourceSchema = Type.Object(
  {
    paths: Type.Array(Type.String({ minLength: 1 }), {
      minItems: 1,
      description: 'Certificate files: PEM bundles, DER certificates, PKCS#12 archives. Globs take *, ? and ** (any number of directories); a name starting with a dot is matched only by a pattern starting with one. Relative paths are resolved against the config file\'s directory.',
      examples: [['/etc/tls/*/tls.crt', 'certs/**/*.pem']],
    }),
    name: Type.Optional(Type.String({ minLength: 1, description: 'The `source` label of this entry\'s series; unique among the entries. Defaults to the first path as written.' })),
    interval: Type.Optional(duration('How often the files are read again, besides whenever the file system reports a change where they live; an unchanged file (same inode, size and times) is not opened.', FILES_DEFAULT_INTERVAL)),
    ca_file: Type.Optional(caFile('Trust anchors for these files\' chains; default defaults.ca_file.')),
    policy: Type.Optional(policy('Verification profile of these files\' chains; default defaults.policy.')),
    server_name: Type.Optional(Type.String({ minLength: 1, description: 'A name each leaf must cover (else hostname_mismatch); by default no name is checked.' })),
    pkcs12_password_file: Type.Optional(Type.String({
      minLength: 1,
      description: 'File holding the password of the PKCS#12 archives among the paths (one trailing newline is ignored); read at each (re)load. Without it, the empty password.',
    })),
  },
  { additionalProperties: false, description: 'Certificate files on disk, read and verified like a server\'s chain, first certificate as the leaf.' },
);

/** An ad-hoc target is never scheduled, so it has no interval. */
export const ProbeDefaultsSchema = Type.Omit(DefaultsSchema, ['interval'], {
  additionalProperties: false,
  description: 'Settings of every ad-hoc /probe target (one probe.allow admits): the keys of defaults: but interval; a key not set here comes from defaults:.',
});

export const ProbeSchema = Type.Object(
  {
    allow: Type.Optional(allowSchema()),
    deny: Type.Optional(denySchema()),
    defaults: Type.Optional(ProbeDefaultsSchema),
  },
  {
    additionalProperties: false,
    description: '/probe?target=HOST:PORT for targets the config does not list. Without this section /probe answers for configured targets only: it is no relay to arbitrary hosts and ports.',
  },
);

export const ConfigSchema = Type.Object(
  {
    defaults: Type.Optional(DefaultsSchema),
    targets: Type.Optional(Type.Array(TargetSchema, { description: 'The TLS endpoints to probe.' })),
    files: Type.Optional(Type.Array(FileSourceSchema, { description: 'Certificate files on disk to watch, such as mounted Kubernetes TLS secrets.' })),
    probe: Type.Optional(ProbeSchema),
  },
  {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: 'certexp configuration',
    description: 'certexp.yml: the TLS endpoints certexp probes and the certificate files it reads, and how often. Unknown keys are errors.',
    additionalProperties: false,
  },
);

export type DefaultsInput = Static<typeof DefaultsSchema>;
export type TargetInput = Static<typeof TargetSchema>;
export type ConfigInput = Static<typeof ConfigSchema>;

/** The text of config/certexp.schema.json; TypeBox's symbol-keyed metadata drops out of JSON. */
export function schemaJson(): string {
  return `${JSON.stringify(ConfigSchema, null, 2)}\n`;
}
