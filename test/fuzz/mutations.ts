/**
 * fast-check arbitraries over mutated certificates and chains. A generated value is a recipe
 * (plain data: which seed, which edits), applied to the corpus by `materialize`, so fast-check
 * can shrink a failure to its smallest recipe and the fuzz script can replay it.
 *
 * Byte-level edits (set, flip, truncate, append, insert, delete, splice, random bytes) find what
 * a fuzzer finds anywhere; structure-aware edits (rewrite one length, swap one TLV for another
 * certificate's, or for a hostile value from DICTIONARY) reach the fields behind a valid outer
 * structure, which random bytes almost never do; field edits put a hostile value into a named
 * X.509 field and may re-sign the result with the real issuer's key, so the verifier's rules,
 * not just its signature check, see it.
 *
 * The coverage-guided fuzzer (coverage.ts, `npm run fuzz`) edits whole cases instead of recipes:
 * `caseEdits` draws chain edits, trust store edits, certificates taken from other cases of its
 * corpus, and a new name, clock or policy; `editCase` applies them.
 */
import fc from 'fast-check';
import {
  allTlvs, bytesOf, childrenOf, extension, generalizedTime, isConstructed, name, oid, readTbs, readTlv, signTbs, splitCertificate, TAG, tlv,
  utcTime, writeTbs, type TbsFields, type Tlv,
} from '../support/der';
import type { KeyPair } from '../support/pki';
import type { FuzzCorpus } from './corpus';
import type { VerifyPolicy } from '../../src/pki/path-checks';

export type LengthForm = 'plus' | 'minus' | 'zero' | 'indefinite' | 'nonMinimal' | 'huge';

export type ByteMutation =
  | { readonly kind: 'set'; readonly at: number; readonly value: number }
  | { readonly kind: 'flip'; readonly at: number; readonly bit: number }
  | { readonly kind: 'truncate'; readonly at: number }
  | { readonly kind: 'append'; readonly bytes: Uint8Array }
  | { readonly kind: 'insert'; readonly at: number; readonly bytes: Uint8Array }
  | { readonly kind: 'delete'; readonly at: number; readonly count: number }
  | { readonly kind: 'splice'; readonly other: number; readonly at: number; readonly from: number }
  | { readonly kind: 'length'; readonly node: number; readonly form: LengthForm; readonly delta: number }
  | { readonly kind: 'swapNode'; readonly node: number; readonly other: number; readonly otherNode: number }
  | { readonly kind: 'replaceNode'; readonly node: number; readonly value: number }
  | { readonly kind: 'tag'; readonly node: number; readonly value: number }
  | { readonly kind: 'field'; readonly field: CertField; readonly value: number; readonly resign: boolean }
  | { readonly kind: 'random'; readonly bytes: Uint8Array };

/** The X.509 fields a field edit can target. `extension` adds one; `algorithms` sets both signature algorithm fields. */
export type CertField =
  | 'version' | 'serialNumber' | 'signature' | 'issuer' | 'notBefore' | 'notAfter' | 'subject' | 'subjectPublicKeyInfo'
  | 'extension' | 'signatureAlgorithm' | 'algorithms' | 'signatureValue';

export interface CertificateRecipe {
  readonly seed: number;
  readonly mutations: readonly ByteMutation[];
}

export type ChainEdit =
  | { readonly kind: 'mutate'; readonly member: number; readonly recipe: readonly ByteMutation[] }
  | { readonly kind: 'duplicate'; readonly member: number }
  | { readonly kind: 'drop'; readonly member: number }
  | { readonly kind: 'move'; readonly member: number; readonly to: number }
  | { readonly kind: 'add'; readonly certificate: CertificateRecipe };

export interface ChainRecipe {
  readonly chain: number;
  readonly edits: readonly ChainEdit[];
  readonly anchors: readonly number[];
  /** A mutated anchor: a trust store holds whatever the operator's ca_file says. */
  readonly extraAnchor: CertificateRecipe | undefined;
  readonly serverName: string | undefined;
  readonly atOffset: number;
  readonly policy: VerifyPolicy | undefined;
  readonly maxDepth: number | undefined;
}

/** A materialized case: what ChainAnalyzer.analyze is given. Plain data, so it can be saved and replayed. */
export interface FuzzCase {
  readonly chain: readonly Buffer[];
  readonly anchors: readonly Buffer[];
  readonly serverName: string | undefined;
  readonly at: number;
  readonly policy: VerifyPolicy | undefined;
  readonly maxDepth: number | undefined;
  /** Set when the leaf was changed without being re-signed: then it must never verify. */
  readonly mustNotVerify?: boolean;
}

const DAY = 24 * 60 * 60 * 1000;

function algorithm(dotted: string, ...parameters: Buffer[]): Buffer {
  return tlv(TAG.sequence, oid(dotted), ...parameters);
}

const NULL = tlv(TAG.null);
const PSS_SHA256_PARAMS = tlv(
  TAG.sequence,
  tlv(TAG.context0, algorithm('2.16.840.1.101.3.4.2.1', NULL)),
  tlv(0xa1, algorithm('1.2.840.113549.1.1.8', algorithm('2.16.840.1.101.3.4.2.1', NULL))),
  tlv(0xa2, tlv(TAG.integer, Buffer.from([32]))),
);
const utf8 = (bytes: number[]): Buffer => tlv(TAG.utf8String, Buffer.from(bytes));

const int = (...bytes: number[]): Buffer => tlv(TAG.integer, Buffer.from(bytes));
const version = (n: number): Buffer => tlv(TAG.context0, int(n));
const cn = (value: Buffer): Buffer => name(['2.5.4.3', value]);
const ext = (id: string, critical: boolean, value: Buffer): Buffer => extension(id, critical, value);
const SAN = '2.5.29.17';

/**
 * Hostile values per X.509 field: the edge cases of RFC 5280 that byte flips rarely produce.
 * Field edits draw from their field's list (or the same field of another seed); replaceNode draws
 * from DICTIONARY, all of them, into any TLV: one more source of malformed input.
 */
export const FIELD_VALUES: Readonly<Record<CertField, readonly Buffer[]>> = {
  // RFC 5280 §4.1.2.5: the UTCTime window's edges, and the shapes DER forbids.
  notBefore: [
    utcTime('500101000000Z'), utcTime('000229120000Z'), utcTime('010229120000Z'), utcTime('4912312359Z'), utcTime('491231235959+0100'),
    utcTime('491331235959Z'), utcTime('491232235959Z'), utcTime('491231245959Z'), utcTime('491231236059Z'), utcTime('491231235960Z'),
    utcTime('49123123595:Z'), utcTime(''), generalizedTime('19491231235959Z'), generalizedTime('00000101000000Z'),
    generalizedTime('20260101000000.5Z'), generalizedTime('20260101000000'),
  ],
  notAfter: [
    utcTime('491231235959Z'), utcTime('500101000000Z'), generalizedTime('20491231235959Z'), generalizedTime('20500101000000Z'),
    generalizedTime('99991231235959Z'), generalizedTime('20491231235959'), generalizedTime('20491231235959.5Z'),
    generalizedTime('204912312359Z'), generalizedTime('2049123123Z'), generalizedTime('20491231235959+0100'),
    generalizedTime('20490230000000Z'), utcTime('991231235959Z'),
  ],
  // Serial numbers: negative, zero, empty, 20 and 21 and 40 bytes, a needless leading zero.
  serialNumber: [
    int(0xff), int(0), tlv(TAG.integer), tlv(TAG.integer, Buffer.alloc(40, 0x41)), tlv(TAG.integer, Buffer.alloc(20, 0x41)),
    tlv(TAG.integer, Buffer.alloc(21, 0x41)), int(0, 1), int(0x80, 0, 0, 1),
  ],
  version: [version(0), version(1), version(3), version(0xff), tlv(TAG.context0, tlv(TAG.integer, Buffer.alloc(9, 1))), tlv(TAG.context0)],
  // RSASSA-PSS with good, garbage and absent parameters; weak, unknown, EdDSA, DSA.
  signatureAlgorithm: [
    algorithm('1.2.840.113549.1.1.10', PSS_SHA256_PARAMS), algorithm('1.2.840.113549.1.1.10', int(5)),
    algorithm('1.2.840.113549.1.1.10', tlv(TAG.sequence, tlv(TAG.context0, int(1)))), algorithm('1.2.840.113549.1.1.10'),
    algorithm('1.2.840.113549.1.1.10', NULL), algorithm('1.2.840.113549.1.1.5', NULL), algorithm('1.2.840.113549.1.1.4', NULL),
    algorithm('1.2.840.10045.4.1'), algorithm('1.3.101.112'), algorithm('1.3.101.113'), algorithm('1.2.3.4.5', NULL),
    algorithm('1.2.840.10040.4.3'), algorithm('1.2.840.113549.1.1.11', tlv(TAG.octetString, Buffer.alloc(3))),
  ],
  signature: [],
  algorithms: [],
  // Names: empty, invalid UTF-8, odd-length BMPString, UniversalString of 3 bytes, a U-label, a huge attribute, two CNs.
  subject: [
    tlv(TAG.sequence), cn(utf8([0xff, 0xfe, 0x41])), cn(utf8([0xc3, 0x28])), cn(tlv(TAG.bmpString, Buffer.from([0xd8, 0x00, 0x41]))),
    cn(tlv(TAG.universalString, Buffer.from([0, 0, 0x41]))), cn(tlv(TAG.utf8String, Buffer.from('bücher.example'))),
    cn(tlv(TAG.utf8String, Buffer.alloc(5000, 0x61))), cn(tlv(TAG.ia5String, Buffer.from([0xff, 0x41]))),
    name(['2.5.4.3', tlv(TAG.printableString, Buffer.from('localhost'))], ['2.5.4.3', tlv(TAG.utf8String, Buffer.from('localhost'))]),
    cn(tlv(TAG.utf8String, Buffer.from('127.0.0.1'))), cn(tlv(TAG.utf8String, Buffer.from('*.example.test'))), cn(int(1)),
  ],
  issuer: [],
  subjectPublicKeyInfo: [
    tlv(TAG.sequence), tlv(TAG.sequence, algorithm('1.2.840.10045.2.1', oid('1.2.840.10045.3.1.7')), tlv(TAG.bitString, Buffer.from([0, 4]))),
    tlv(TAG.sequence, algorithm('1.2.840.10045.2.1', oid('1.3.132.0.10')), tlv(TAG.bitString, Buffer.from([0, 2, ...Buffer.alloc(32, 1)]))),
    tlv(TAG.sequence, algorithm('1.2.840.113549.1.1.1', NULL), tlv(TAG.bitString, Buffer.from([0, 0x30, 0x03, 0x02, 0x01, 0x03]))),
  ],
  // Extensions: unknown critical, broken or odd SANs, basicConstraints and keyUsage edge values, a SAN list of 2000 names.
  extension: [
    ext('1.2.3.4', true, NULL), ext('1.2.3.4', false, NULL), ext(SAN, false, Buffer.from([0x30, 0x05, 0x82, 0x09])),
    ext(SAN, false, tlv(TAG.sequence, tlv(0x87, Buffer.from([127, 0, 0, 1, 9])))), ext(SAN, false, tlv(TAG.sequence)),
    ext(SAN, false, tlv(TAG.sequence, tlv(0x82, Buffer.from('localhost')))), ext(SAN, true, tlv(TAG.sequence, tlv(0x82, Buffer.from([0xff, 0x41])))),
    ext(SAN, false, tlv(TAG.sequence, ...Array.from({ length: 2000 }, (_, i) => tlv(0x82, Buffer.from(`n${i}.example.test`))))),
    ext('2.5.29.19', true, tlv(TAG.sequence, tlv(TAG.boolean, Buffer.from([0xff])), int(0xff))),
    ext('2.5.29.19', true, tlv(TAG.sequence, tlv(TAG.boolean, Buffer.from([0xff])), tlv(TAG.integer, Buffer.alloc(9, 0x7f)))),
    ext('2.5.29.19', true, int(1)), ext('2.5.29.15', true, tlv(TAG.bitString)), ext('2.5.29.15', true, tlv(TAG.bitString, Buffer.from([7, 0x80]))),
    ext('2.5.29.37', false, tlv(TAG.sequence)), ext('2.5.29.37', false, tlv(TAG.sequence, oid('2.5.29.37.0'))),
    ext('2.5.29.30', true, tlv(TAG.sequence, tlv(0xa0, tlv(TAG.sequence, tlv(0x87, Buffer.alloc(5)))))),
    ext('2.5.29.30', true, tlv(TAG.sequence, tlv(0xa1, tlv(TAG.sequence, tlv(0x82))))),
    ext('2.5.29.14', false, int(1)), ext('2.5.29.35', false, tlv(TAG.sequence, tlv(0x80))),
    ext('1.3.6.1.5.5.7.1.24', true, tlv(TAG.sequence, int(5))),
  ],
  // The signature: unused bits, empty, one byte.
  signatureValue: [tlv(TAG.bitString, Buffer.from([7, 0x80])), tlv(TAG.bitString), tlv(TAG.bitString, Buffer.from([0])), tlv(TAG.bitString, Buffer.from([0, 0x30, 0]))],
};

export const DICTIONARY: readonly Buffer[] = [
  ...Object.values(FIELD_VALUES).flat(),
  // Primitive oddities: non-DER BOOLEANs, a constructed OCTET STRING (BER only), an empty OID, a high tag number.
  tlv(TAG.boolean, Buffer.from([0x01])), tlv(TAG.boolean, Buffer.from([0x00])), tlv(0x24, tlv(TAG.octetString, Buffer.from([1]))),
  tlv(TAG.oid), Buffer.from([0x1f, 0x81, 0x00, 0x00]),
];

/**
 * What a tag edit writes into one TLV's identifier octet: every universal type the parser reads,
 * the context tags of a certificate, and (past the list) the same tag with its constructed bit flipped.
 */
const TAGS: readonly number[] = [...Object.values(TAG), 0x80, 0x81, 0x82, 0x86, 0x87, 0xa1, 0xa2, 0x00, 0x1f];

const CERT_FIELDS: readonly CertField[] = [
  'version', 'serialNumber', 'signature', 'issuer', 'notBefore', 'notAfter', 'subject', 'subjectPublicKeyInfo',
  'extension', 'signatureAlgorithm', 'algorithms', 'signatureValue',
];

const index = fc.nat({ max: 1 << 20 });

/** `resign: false` keeps every edit unsigned: for properties that say a changed certificate never verifies. */
export function byteMutation(seedCount: number, { resign = true } = {}): fc.Arbitrary<ByteMutation> {
  const seed = fc.nat({ max: seedCount - 1 });
  return fc.oneof(
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('set' as const), at: index, value: fc.integer({ min: 0, max: 255 }) }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('flip' as const), at: index, bit: fc.integer({ min: 0, max: 7 }) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('truncate' as const), at: index }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('append' as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('insert' as const), at: index, bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const), at: index, count: fc.integer({ min: 1, max: 16 }) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('splice' as const), other: seed, at: index, from: index }) },
    {
      weight: 3,
      arbitrary: fc.record({
        kind: fc.constant('length' as const),
        node: index,
        form: fc.constantFrom<LengthForm>('plus', 'minus', 'zero', 'indefinite', 'nonMinimal', 'huge'),
        delta: fc.integer({ min: 1, max: 4 }),
      }),
    },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('swapNode' as const), node: index, other: seed, otherNode: index }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('replaceNode' as const), node: index, value: fc.nat({ max: DICTIONARY.length - 1 }) }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('tag' as const), node: index, value: fc.nat({ max: TAGS.length }) }) },
    {
      weight: 6,
      arbitrary: fc.record({ kind: fc.constant('field' as const), field: fc.constantFrom(...CERT_FIELDS), value: fc.nat({ max: 1 << 16 }), resign: resign ? fc.boolean() : fc.constant(false) }),
    },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('random' as const), bytes: fc.uint8Array({ maxLength: 600 }) }) },
  );
}

export function certificateRecipe(seedCount: number, maxMutations = 3): fc.Arbitrary<CertificateRecipe> {
  return fc.record({
    seed: fc.nat({ max: seedCount - 1 }),
    mutations: fc.array(byteMutation(seedCount), { minLength: 1, maxLength: maxMutations }),
  });
}

const SERVER_NAMES = ['localhost', 'LOCALHOST.', '127.0.0.1', '::1', '[::1]', '127.1', 'other.example', 'a.example.test', '*.example.test', 'bücher.example', ''];

const serverName = fc.option(
  fc.oneof(fc.constantFrom(...SERVER_NAMES), fc.domain(), fc.ipV4(), fc.ipV6(), fc.string({ maxLength: 40 })),
  { nil: undefined, freq: 6 },
);
const atOffset = fc.oneof(fc.constant(0), fc.integer({ min: -200 * 365 * DAY, max: 200 * 365 * DAY }));
const policy = fc.constantFrom<VerifyPolicy | undefined>(undefined, 'web', 'rfc5280');
const maxDepth = fc.option(fc.integer({ min: 0, max: 12 }), { nil: undefined, freq: 3 });

export function chainEdit(seedCount: number): fc.Arbitrary<ChainEdit> {
  const member = fc.nat({ max: 7 });
  return fc.oneof(
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('mutate' as const), member, recipe: fc.array(byteMutation(seedCount), { minLength: 1, maxLength: 3 }) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('duplicate' as const), member }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('drop' as const), member }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('move' as const), member, to: member }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('add' as const), certificate: fc.record({ seed: fc.nat({ max: seedCount - 1 }), mutations: fc.array(byteMutation(seedCount), { maxLength: 2 }) }) }) },
  );
}

export function chainRecipe(corpus: FuzzCorpus): fc.Arbitrary<ChainRecipe> {
  const seedCount = corpus.seeds.length;
  return fc.record({
    chain: fc.nat({ max: corpus.chains.length - 1 }),
    edits: fc.array(chainEdit(seedCount), { maxLength: 4 }),
    anchors: fc.subarray([...corpus.anchors]),
    extraAnchor: fc.option(certificateRecipe(seedCount, 2), { nil: undefined, freq: 8 }),
    serverName,
    atOffset,
    policy,
    maxDepth,
  });
}

/** One edit of a whole case, for the coverage-guided fuzzer. */
export type CaseEdit =
  | { readonly kind: 'chain'; readonly edit: ChainEdit }
  | { readonly kind: 'anchor'; readonly member: number; readonly recipe: readonly ByteMutation[] }
  /** A certificate from the donor pool (the seeds and every case in the corpus) put at `member` of the chain or the trust store. */
  | { readonly kind: 'donate'; readonly member: number; readonly donor: number; readonly anchor: boolean }
  | { readonly kind: 'serverName'; readonly serverName: string | undefined }
  | { readonly kind: 'clock'; readonly atOffset: number }
  | { readonly kind: 'policy'; readonly policy: VerifyPolicy | undefined; readonly maxDepth: number | undefined };

/**
 * Donor indices are drawn this wide and taken modulo the pool (`pick`), so one arbitrary serves a
 * donor pool that grows with the corpus.
 */
const DONOR_INDICES = 1 << 16;

export function caseEdits(): fc.Arbitrary<CaseEdit[]> {
  const member = fc.nat({ max: 7 });
  const edit: fc.Arbitrary<CaseEdit> = fc.oneof(
    { weight: 8, arbitrary: fc.record({ kind: fc.constant('chain' as const), edit: chainEdit(DONOR_INDICES) }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('anchor' as const), member, recipe: fc.array(byteMutation(DONOR_INDICES), { minLength: 1, maxLength: 3 }) }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('donate' as const), member, donor: fc.nat({ max: DONOR_INDICES - 1 }), anchor: fc.boolean() }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('serverName' as const), serverName }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('clock' as const), atOffset }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('policy' as const), policy, maxDepth }) },
  );
  return fc.array(edit, { minLength: 1, maxLength: 4 });
}

// ---------------------------------------------------------------------------------------------
// Applying recipes

/** The buffer with `target` (a TLV inside it) replaced, every enclosing length rewritten to fit. */
export function replaceTlv(buf: Buffer, target: Tlv, replacement: Buffer): Buffer {
  const rebuild = (node: Tlv): Buffer => {
    if (node.start === target.start && node.end === target.end && node.tag === target.tag) return replacement;
    if (!isConstructed(node) || target.start < node.start || target.end > node.end) return bytesOf(buf, node);
    return tlv(node.tag, ...childrenOf(buf, node).map(rebuild));
  };
  try {
    const top = readTlv(buf, 0);
    return Buffer.concat([buf.subarray(0, top.start), rebuild(top), buf.subarray(top.end)]);
  } catch {
    // Not a clean TLV tree any more (an earlier edit broke it): splice the bytes in place instead.
    return Buffer.concat([buf.subarray(0, target.start), replacement, buf.subarray(target.end)]);
  }
}

function lengthBytes(form: LengthForm, length: number, delta: number): Buffer {
  switch (form) {
    case 'plus':
      return encodeLengthLoose(length + delta);
    case 'minus':
      return encodeLengthLoose(Math.max(0, length - delta));
    case 'zero':
      return Buffer.from([0]);
    case 'indefinite':
      return Buffer.from([0x80]);
    case 'nonMinimal':
      return Buffer.from([0x84, (length >>> 24) & 0xff, (length >>> 16) & 0xff, (length >>> 8) & 0xff, length & 0xff]);
    case 'huge':
      return Buffer.from([0x84, 0x7f, 0xff, 0xff, 0xff]);
  }
}

function encodeLengthLoose(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  if (length < 0x100) return Buffer.from([0x81, length]);
  if (length < 0x10000) return Buffer.from([0x82, length >> 8, length & 0xff]);
  return Buffer.from([0x83, (length >> 16) & 0xff, (length >> 8) & 0xff, length & 0xff]);
}

function pick<T>(items: readonly T[], at: number): T | undefined {
  return items.length === 0 ? undefined : items[at % items.length];
}

/** What a mutation may draw on besides the bytes it edits. */
export interface MutationContext {
  readonly seeds: readonly Buffer[];
  /** The key that signed the certificate being mutated, for field edits that re-sign. */
  readonly signer: KeyPair | undefined;
}

export function contextFor(corpus: FuzzCorpus, seed: number): MutationContext {
  return { seeds: corpus.seeds.map((s) => s.der), signer: pick(corpus.seeds, seed)?.signer };
}

/** The same field read out of another certificate, or undefined when it has none. */
function donorField(field: CertField, donor: Buffer, which: number): Buffer | undefined {
  try {
    const parts = splitCertificate(donor);
    const fields = readTbs(parts.tbs);
    switch (field) {
      case 'version':
        return fields.version;
      case 'serialNumber':
      case 'issuer':
      case 'subject':
      case 'subjectPublicKeyInfo':
      case 'signature':
        return fields[field];
      case 'algorithms':
        return fields.signature;
      case 'notBefore':
      case 'notAfter': {
        const times = childrenOf(fields.validity, readTlv(fields.validity)).map((t) => bytesOf(fields.validity, t));
        return times[field === 'notBefore' ? 0 : 1];
      }
      case 'extension':
        return pick(fields.extensions ?? [], which);
      case 'signatureAlgorithm':
        return parts.signatureAlgorithm;
      case 'signatureValue':
        return parts.signatureValue;
    }
  } catch {
    return undefined;
  }
}

const LIST_OF: Readonly<Partial<Record<CertField, CertField>>> = { signature: 'signatureAlgorithm', algorithms: 'signatureAlgorithm', issuer: 'subject' };

/** Even values pick from the field's hostile list, odd ones take the field from a seed. */
function fieldValue(field: CertField, value: number, seeds: readonly Buffer[]): Buffer | undefined {
  const list = FIELD_VALUES[LIST_OF[field] ?? field];
  if (value % 2 === 0 && list.length > 0) return pick(list, value >> 1);
  const donor = pick(seeds, value >> 1);
  return donor === undefined ? undefined : donorField(field, donor, value >> 4);
}

function extensionId(extensionDer: Buffer): string {
  const [id] = childrenOf(extensionDer, readTlv(extensionDer));
  return id === undefined ? '' : bytesOf(extensionDer, id).toString('hex');
}

/** Puts `value` into `field` and reassembles the certificate, re-signed with the real issuer key when asked. */
function editField(der: Buffer, mutation: Extract<ByteMutation, { kind: 'field' }>, context: MutationContext): Buffer {
  let fields: TbsFields;
  let signatureAlgorithm: Buffer;
  let signatureValue: Buffer;
  try {
    const parts = splitCertificate(der);
    fields = readTbs(parts.tbs);
    ({ signatureAlgorithm, signatureValue } = parts);
  } catch {
    return der; // an earlier edit broke the structure: there is no field to address
  }
  const value = fieldValue(mutation.field, mutation.value, context.seeds);
  if (value === undefined) return der;
  switch (mutation.field) {
    case 'version':
    case 'serialNumber':
    case 'issuer':
    case 'subject':
    case 'subjectPublicKeyInfo':
    case 'signature':
      fields[mutation.field] = value;
      break;
    case 'algorithms':
      fields.signature = value;
      signatureAlgorithm = value;
      break;
    case 'signatureAlgorithm':
      signatureAlgorithm = value;
      break;
    case 'signatureValue':
      signatureValue = value;
      break;
    case 'notBefore':
    case 'notAfter': {
      const times = childrenOf(fields.validity, readTlv(fields.validity)).map((t) => bytesOf(fields.validity, t));
      times[mutation.field === 'notBefore' ? 0 : 1] = value;
      fields.validity = tlv(TAG.sequence, ...times);
      break;
    }
    case 'extension': {
      const list = fields.extensions ?? [];
      const same = list.findIndex((e) => extensionId(e) === extensionId(value));
      // Replace an extension of the same type, or (every other time) add it again: a repeated extension is malformed.
      if (same >= 0 && (mutation.value & 4) === 0) list[same] = value;
      else list.push(value);
      fields.extensions = list;
      break;
    }
  }
  const tbs = writeTbs(fields);
  if (mutation.resign && context.signer !== undefined && mutation.field !== 'signatureValue') {
    return signTbs(tbs, signatureAlgorithm, context.signer);
  }
  return tlv(TAG.sequence, tbs, signatureAlgorithm, signatureValue);
}

export function applyMutation(der: Buffer, mutation: ByteMutation, context: MutationContext): Buffer {
  const { seeds } = context;
  const at = (n: number, length = der.length): number => (length === 0 ? 0 : n % length);
  switch (mutation.kind) {
    case 'set': {
      if (der.length === 0) return der;
      const out = Buffer.from(der);
      out[at(mutation.at)] = mutation.value;
      return out;
    }
    case 'flip': {
      if (der.length === 0) return der;
      const out = Buffer.from(der);
      const i = at(mutation.at);
      out[i] = (out[i] ?? 0) ^ (1 << mutation.bit);
      return out;
    }
    case 'truncate':
      return der.subarray(0, at(mutation.at));
    case 'append':
      return Buffer.concat([der, mutation.bytes]);
    case 'insert': {
      const i = at(mutation.at, der.length + 1);
      return Buffer.concat([der.subarray(0, i), mutation.bytes, der.subarray(i)]);
    }
    case 'delete': {
      const i = at(mutation.at);
      return Buffer.concat([der.subarray(0, i), der.subarray(i + mutation.count)]);
    }
    case 'splice': {
      const other = pick(seeds, mutation.other) ?? der;
      return Buffer.concat([der.subarray(0, at(mutation.at)), other.subarray(at(mutation.from, other.length))]);
    }
    case 'length': {
      const node = pick(allTlvs(der), mutation.node);
      if (node === undefined) return der;
      const header = der.subarray(node.start, node.start + node.tagLength);
      const content = der.subarray(node.start + node.headerLength, node.end);
      const edited = Buffer.concat([header, lengthBytes(mutation.form, node.length, mutation.delta), content]);
      return Buffer.concat([der.subarray(0, node.start), edited, der.subarray(node.end)]);
    }
    case 'swapNode': {
      const node = pick(allTlvs(der), mutation.node);
      const other = pick(seeds, mutation.other);
      const donor = other === undefined ? undefined : pick(allTlvs(other), mutation.otherNode);
      if (node === undefined || other === undefined || donor === undefined) return der;
      return replaceTlv(der, node, bytesOf(other, donor));
    }
    case 'replaceNode': {
      const node = pick(allTlvs(der), mutation.node);
      const value = DICTIONARY[mutation.value];
      return node === undefined || value === undefined ? der : replaceTlv(der, node, value);
    }
    case 'tag': {
      const node = pick(allTlvs(der), mutation.node);
      if (node === undefined) return der;
      const out = Buffer.from(der);
      out[node.start] = TAGS[mutation.value] ?? (node.tag ^ 0x20);
      return out;
    }
    case 'field':
      try {
        return editField(der, mutation, context);
      } catch {
        return der; // an earlier edit left a field this one cannot take apart
      }
    case 'random':
      return Buffer.from(mutation.bytes);
  }
}

export function mutate(der: Buffer, mutations: readonly ByteMutation[], context: MutationContext): Buffer {
  return mutations.reduce((bytes, mutation) => applyMutation(bytes, mutation, context), der);
}

export function applyRecipe(recipe: CertificateRecipe, corpus: FuzzCorpus): Buffer {
  const start = pick(corpus.seeds, recipe.seed)?.der ?? Buffer.alloc(0);
  return mutate(start, recipe.mutations, contextFor(corpus, recipe.seed));
}

/** A certificate of a chain or trust store being edited, with what its mutations may draw on. */
interface Member {
  readonly der: Buffer;
  readonly context: MutationContext;
}

function applyChainEdit(chain: Member[], edit: ChainEdit, corpus: FuzzCorpus): void {
  const member = (n: number): number => (chain.length === 0 ? 0 : n % chain.length);
  switch (edit.kind) {
    case 'mutate': {
      const i = member(edit.member);
      const entry = chain[i];
      if (entry !== undefined) chain[i] = { der: mutate(entry.der, edit.recipe, entry.context), context: entry.context };
      break;
    }
    case 'duplicate': {
      const entry = chain[member(edit.member)];
      if (entry !== undefined) chain.push(entry);
      break;
    }
    case 'drop':
      chain.splice(member(edit.member), 1);
      break;
    case 'move': {
      const [entry] = chain.splice(member(edit.member), 1);
      if (entry !== undefined) chain.splice(edit.to % (chain.length + 1), 0, entry);
      break;
    }
    case 'add':
      chain.push({ der: applyRecipe(edit.certificate, corpus), context: contextFor(corpus, edit.certificate.seed) });
      break;
  }
}

export function materialize(recipe: ChainRecipe, corpus: FuzzCorpus): FuzzCase {
  // Each member keeps the context of the seed it came from, so a field edit can re-sign it with the right key.
  const chain = (pick(corpus.chains, recipe.chain) ?? []).map((seed) => ({ der: corpus.seeds[seed]?.der ?? Buffer.alloc(0), context: contextFor(corpus, seed) }));
  for (const edit of recipe.edits) applyChainEdit(chain, edit, corpus);
  const anchors = recipe.anchors.map((i) => corpus.seeds[i]?.der ?? Buffer.alloc(0));
  if (recipe.extraAnchor !== undefined) anchors.push(applyRecipe(recipe.extraAnchor, corpus));
  return {
    chain: chain.map((entry) => entry.der),
    anchors,
    serverName: recipe.serverName,
    at: corpus.now + recipe.atOffset,
    policy: recipe.policy,
    maxDepth: recipe.maxDepth,
  };
}

/**
 * Who signed a certificate of any case, so a field edit can re-sign it: the seed key behind the
 * same issuer name (each issuer name of the corpus belongs to one key), if any.
 */
export function signerLookup(corpus: FuzzCorpus): (der: Buffer) => KeyPair | undefined {
  const issuerOf = (der: Buffer): string | undefined => {
    try {
      return readTbs(splitCertificate(der).tbs).issuer.toString('hex');
    } catch {
      return undefined;
    }
  };
  const byIssuer = new Map<string | undefined, KeyPair>(corpus.seeds.map((s) => [issuerOf(s.der), s.signer]));
  byIssuer.delete(undefined);
  return (der) => byIssuer.get(issuerOf(der));
}

/** What `editCase` draws on besides the case: donors are the seeds and the certificates of the whole corpus. */
export interface CaseEditContext {
  readonly corpus: FuzzCorpus;
  readonly donors: readonly Buffer[];
  readonly signerOf: (der: Buffer) => KeyPair | undefined;
}

export function editCase(input: FuzzCase, edits: readonly CaseEdit[], context: CaseEditContext): FuzzCase {
  const { corpus, donors } = context;
  const member = (der: Buffer): Member => ({ der, context: { seeds: donors, signer: context.signerOf(der) } });
  const chain = input.chain.map(member);
  const anchors = input.anchors.map(member);
  let { serverName, at, policy, maxDepth } = input;
  for (const edit of edits) {
    switch (edit.kind) {
      case 'chain':
        applyChainEdit(chain, edit.edit, corpus);
        break;
      case 'anchor':
        applyChainEdit(anchors, { kind: 'mutate', member: edit.member, recipe: edit.recipe }, corpus);
        break;
      case 'donate': {
        const donor = pick(donors, edit.donor);
        const list = edit.anchor ? anchors : chain;
        if (donor !== undefined) list.splice(edit.member % (list.length + 1), 1, member(donor));
        break;
      }
      case 'serverName':
        ({ serverName } = edit);
        break;
      case 'clock':
        at = corpus.now + edit.atOffset;
        break;
      case 'policy':
        ({ policy, maxDepth } = edit);
        break;
    }
  }
  // mustNotVerify is not carried over: an edited case may legitimately verify.
  return { chain: chain.map((m) => m.der), anchors: anchors.map((m) => m.der), serverName, at, policy, maxDepth };
}
