import * as asn1js from 'asn1js';
import type * as pkijs from 'pkijs';

export interface DistinguishedName {
  /** Comparison key: RFC 5280 §7.1-style folding (case, surrounding and repeated white space). */
  readonly key: string;
  /** Common name, '' when absent: the label operators recognise a certificate by. */
  readonly commonName: string;
  /** Readable one-line form, most significant RDN first ("O=Example, CN=Example CA"). */
  readonly text: string;
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
  return { key: keys.join('/'), commonName, text: parts.join(', ') };
}
