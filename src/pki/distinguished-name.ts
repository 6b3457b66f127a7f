import * as asn1js from 'asn1js';
import type * as pkijs from 'pkijs';
import { InternPool } from '../intern-pool';

export interface DistinguishedName {
  /** Comparison key: RFC 5280 §7.1-style folding (case, surrounding and repeated white space). */
  readonly key: string;
  /** Common name, '' when absent: the label operators recognise a certificate by. */
  readonly commonName: string;
  /** Readable one-line form, most significant RDN first ("O=Example, CN=Example CA"). */
  readonly text: string;
  /** Each attribute as `oid=folded value`, in the certificate's order: the parts `key` is made of. */
  readonly attributes: readonly string[];
}

const SHORT_NAMES: Readonly<Record<string, string>> = {
  '2.5.4.3': 'CN', '2.5.4.6': 'C', '2.5.4.7': 'L', '2.5.4.8': 'ST', '2.5.4.10': 'O', '2.5.4.11': 'OU',
  '2.5.4.5': 'serialNumber', '1.2.840.113549.1.9.1': 'emailAddress', '0.9.2342.19200300.100.1.25': 'DC',
};
const COMMON_NAME = '2.5.4.3';

function attributeText(value: unknown): string | undefined {
  return value instanceof asn1js.BaseStringBlock ? value.getValue() : undefined;
}

function fold(text: string): string {
  return text.trim().replace(/\s+/g, ' ').toLowerCase();
}

export function readName(name: pkijs.RelativeDistinguishedNames): DistinguishedName {
  const keys: string[] = [];
  const parts: string[] = [];
  let commonName = '';
  for (const attribute of name.typesAndValues) {
    const text = attributeText(attribute.value);
    // Non-string values compare by their encoding: there is no folding rule for them.
    const raw = text ?? `#${Buffer.from(attribute.value.toBER(false)).toString('hex')}`;
    keys.push(`${attribute.type}=${text === undefined ? raw : fold(text)}`);
    parts.push(`${SHORT_NAMES[attribute.type] ?? attribute.type}=${raw}`);
    if (attribute.type === COMMON_NAME && text !== undefined) commonName = text;
  }
  return { key: keys.join('/'), commonName, text: parts.join(', '), attributes: keys };
}

/** Names in use as issuers, by their DER: thousands of leaves from one CA share one object. */
const shared = new InternPool<DistinguishedName>(4096);

/** readName, returning one shared object per distinct encoding of a name, so a name held by many certificates is stored once. */
export function readSharedName(name: pkijs.RelativeDistinguishedNames): DistinguishedName {
  return shared.get(Buffer.from(name.valueBeforeDecode).toString('latin1'), () => readName(name));
}

/** Attribute type names a person may write, by lowercase spelling: OpenSSL's short and long names. */
const TYPE_BY_NAME: ReadonlyMap<string, string> = new Map([
  ...Object.entries(SHORT_NAMES).map(([oid, name]): [string, string] => [name.toLowerCase(), oid]),
  ['commonname', '2.5.4.3'], ['countryname', '2.5.4.6'], ['localityname', '2.5.4.7'], ['stateorprovincename', '2.5.4.8'],
  ['organizationname', '2.5.4.10'], ['organizationalunitname', '2.5.4.11'], ['e', '1.2.840.113549.1.9.1'],
  ['domaincomponent', '0.9.2342.19200300.100.1.25'],
]);

/** Splits on `separator` outside double quotes and backslash escapes. */
function splitUnescaped(text: string, separator: string): string[] {
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] ?? '';
    if (c === '\\' && i + 1 < text.length) {
      current += c + (text[i + 1] ?? '');
      i++;
    } else if (c === '"') {
      quoted = !quoted;
      current += c;
    } else if (c === separator && !quoted) {
      parts.push(current);
      current = '';
    } else {
      current += c;
    }
  }
  parts.push(current);
  return parts;
}

/** An attribute value as written: quotes removed, `\,` and `\C3\A9` (UTF-8 bytes) escapes of RFC 4514 decoded. */
function unescapeValue(text: string): string {
  const trimmed = text.trim();
  const unquoted = trimmed.length >= 2 && trimmed.startsWith('"') && trimmed.endsWith('"') ? trimmed.slice(1, -1) : trimmed;
  const chars = Array.from(unquoted);
  const bytes: Buffer[] = [];
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i] ?? '';
    const pair = `${chars[i + 1] ?? ''}${chars[i + 2] ?? ''}`;
    if (c === '\\' && /^[0-9a-fA-F]{2}$/.test(pair)) {
      bytes.push(Buffer.from(pair, 'hex'));
      i += 2;
    } else if (c === '\\' && i + 1 < chars.length) {
      bytes.push(Buffer.from(chars[i + 1] ?? ''));
      i++;
    } else {
      bytes.push(Buffer.from(c));
    }
  }
  return Buffer.concat(bytes).toString('utf8');
}

/**
 * A distinguished name as people copy it — RFC 4514 (`CN=R3, O=Let's Encrypt, C=US`), OpenSSL's
 * `-subject` output (`C = US, O = Let's Encrypt, CN = R3`) or its old slash form (`/C=US/CN=R3`) —
 * as sorted `oid=folded value` attributes, so that the order it was written in does not matter.
 */
export function parseDistinguishedName(text: string): { readonly attributes: readonly string[] } | { readonly error: string } {
  const body = text.trim();
  const parts = body.startsWith('/') ? body.slice(1).split('/') : splitUnescaped(body, ',');
  const attributes: string[] = [];
  for (const part of parts) {
    const eq = part.indexOf('=');
    const name = eq < 0 ? '' : part.slice(0, eq).trim();
    if (name === '') return { error: `${JSON.stringify(part.trim())} is not TYPE=value` };
    const oid = /^\d+(\.\d+)+$/.test(name) ? name : TYPE_BY_NAME.get(name.toLowerCase());
    if (oid === undefined) return { error: `unknown attribute type ${JSON.stringify(name)} (known: CN, O, OU, C, L, ST, DC, serialNumber, emailAddress, or a dotted OID)` };
    attributes.push(`${oid}=${fold(unescapeValue(part.slice(eq + 1)))}`);
  }
  return { attributes: attributes.sort() };
}
