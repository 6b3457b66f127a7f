/**
 * A minimal DER reader: tag, length and where the content lies, nothing allocated per element.
 * For structures too large for asn1js, which stops at 10,000 nodes (a CRL of a few thousand
 * entries) and builds an object tree per node; small parts are still handed to pkijs.
 */

export class DerError extends Error {
  override readonly name = 'DerError';
}

export interface DerElement {
  /** The identifier octet: class, constructed bit and (low) tag number. */
  readonly tag: number;
  /** Offset of the identifier octet. */
  readonly start: number;
  /** Offset of the first content octet. */
  readonly contentStart: number;
  /** Offset just past the content. */
  readonly end: number;
}

export const TAG = {
  boolean: 0x01, integer: 0x02, bitString: 0x03, octetString: 0x04, oid: 0x06, enumerated: 0x0a,
  utcTime: 0x17, generalizedTime: 0x18, sequence: 0x30, context0: 0xa0,
} as const;

/** The element at `offset`, which must end by `limit`. */
export function readElement(bytes: Uint8Array, offset: number, limit: number): DerElement {
  const tag = bytes[offset];
  if (tag === undefined || offset + 2 > limit) throw new DerError(`truncated at byte ${offset}`);
  if ((tag & 0x1f) === 0x1f) throw new DerError(`high tag number at byte ${offset}`);
  const first = bytes[offset + 1] ?? 0;
  let length = first;
  let contentStart = offset + 2;
  if (first & 0x80) {
    const octets = first & 0x7f;
    if (octets === 0 || octets > 4) throw new DerError(`unsupported length at byte ${offset}`);
    length = 0;
    for (let i = 0; i < octets; i++) length = length * 256 + (bytes[contentStart + i] ?? 0);
    contentStart += octets;
  }
  const end = contentStart + length;
  if (end > limit) throw new DerError(`element at byte ${offset} runs past its container`);
  return { tag, start: offset, contentStart, end };
}

/** The element at `offset`, which must have tag `tag`; `what` names it in the error. */
export function expectElement(bytes: Uint8Array, offset: number, limit: number, tag: number, what: string): DerElement {
  const element = readElement(bytes, offset, limit);
  if (element.tag !== tag) throw new DerError(`${what}: expected tag 0x${tag.toString(16)}, found 0x${element.tag.toString(16)}`);
  return element;
}

/** The elements inside a constructed one, in order. */
export function* childrenOf(bytes: Uint8Array, parent: DerElement): Generator<DerElement> {
  for (let offset = parent.contentStart; offset < parent.end;) {
    const child = readElement(bytes, offset, parent.end);
    yield child;
    offset = child.end;
  }
}

export function contentOf(bytes: Uint8Array, element: DerElement): Uint8Array {
  return bytes.subarray(element.contentStart, element.end);
}

/** Dotted form of an OBJECT IDENTIFIER's content octets. */
export function oidText(content: Uint8Array): string {
  const arcs: number[] = [];
  let value = 0;
  for (const byte of content) {
    value = value * 128 + (byte & 0x7f);
    if ((byte & 0x80) === 0) {
      if (arcs.length === 0) arcs.push(value < 80 ? Math.floor(value / 40) : 2, value < 80 ? value % 40 : value - 80);
      else arcs.push(value);
      value = 0;
    }
  }
  return arcs.join('.');
}

const UTC_TIME = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/;
const GENERALIZED_TIME = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/;

/**
 * A time read from its own characters, as RFC 5280 §4.1.2.5 defines them: UTCTime YYMMDDHHMMSSZ
 * (YY >= 50 is 19YY, else 20YY), GeneralizedTime YYYYMMDDHHMMSSZ without fractions, each field
 * in range; undefined when it is not one. asn1js reads "4912312359Z" as 1899 and month 13 as
 * next January; it does not get to decide when a certificate expires.
 */
export function rfc5280Time(text: string, generalized: boolean): number | undefined {
  const match = (generalized ? GENERALIZED_TIME : UTC_TIME).exec(text);
  if (match === null) return undefined;
  const [y, month, day, hour, minute, second] = match.slice(1).map(Number) as [number, number, number, number, number, number];
  const year = generalized ? y : y >= 50 ? 1900 + y : 2000 + y;
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, 0);
  const inRange = month >= 1 && month <= 12 && hour <= 23 && minute <= 59 && second <= 59;
  // Date rolls 31 April over into May: a day the month does not have is not a date.
  return inRange && date.getUTCDate() === day ? date.getTime() : undefined;
}
