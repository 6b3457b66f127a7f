import type { TargetConfig } from '../config/config-types';
import { CRL_STATUSES } from '../pki/crl';
import type { ChainAnalysis } from '../pki/analyze-chain';
import { OCSP_STATUSES } from '../pki/ocsp';
import type { FileResult } from '../results/file-result';
import type { Rendered, TargetCounts } from '../results/results-store';
import type { TargetResult } from '../results/target-result';
import { bodyText, type BodyPart } from './exposition-body';
import { escapeLabelValue, familyHeader, formatValue, line, type Format, type MetricType } from './exposition';
import { packSections } from './sections';

const DAY_MS = 86_400_000;

interface Family {
  readonly name: string;
  readonly help: string;
  readonly type: MetricType;
}

/** A family whose lines depend on the result alone: rendered once per result and reused until the next probe. */
interface ResultFamily extends Family {
  lines(result: TargetResult, target: string): string;
  /** For the families of a chain, the same lines for a certificate file, labelled source and file instead of target. */
  fileLines?(file: FileResult): string;
}

type LabelPairs = readonly (readonly [string, string])[];

/** Lines from a verified chain alone, after the labels that say whose chain it is. */
type ChainLines = (chain: ChainAnalysis, subject: LabelPairs) => string;

const fileSubject = (file: FileResult): LabelPairs => [['source', file.source], ['file', file.file]];

/** A family of the chain: a target's series and a file's share one name, so the same alerts cover both. */
function chainFamily(name: string, help: string, lines: ChainLines): ResultFamily {
  return {
    name, help, type: 'gauge',
    lines: (r, t) => (r.chain === undefined ? '' : lines(r.chain, [['target', t]])),
    fileLines: (f) => (f.chain === undefined ? '' : lines(f.chain, fileSubject(f))),
  };
}

/**
 * `name="value"` texts by value, escaped once: a probe's lines are rendered from these and the
 * value alone, not from label pairs. For target names and closed sets of values (phases,
 * reasons, statuses, versions, ciphers, bounds), never for open ones such as addresses.
 */
function labelTexts<V extends string | number>(name: string, max: number, text: (value: V) => string = String): (value: V) => string {
  const texts = new Map<V, string>();
  return (value) => {
    let label = texts.get(value);
    if (label === undefined) {
      if (texts.size >= max) texts.clear();
      label = `${name}="${escapeLabelValue(text(value))}"`;
      texts.set(value, label);
    }
    return label;
  };
}

/** The label every per-target line starts with. */
const targetLabel = labelTexts<string>('target', 100_000);
const phaseLabel = labelTexts<string>(',phase', 100);
const reasonLabel = labelTexts<string>(',reason', 100);
const statusLabel = labelTexts<string>(',status', 100);
const versionLabel = labelTexts<string>(',version', 100);
const cipherLabel = labelTexts<string>(',cipher', 1000);
const leLabel = labelTexts<number>(',le', 100, formatValue);

/** A sample line whose first label is the target; `more` is already-formatted `,name="value"` text. */
const targetLine = (name: string, target: string, more: string, value: number): string =>
  `${name}{${targetLabel(target)}${more}} ${formatValue(value)}\n`;

/** Durations to the microsecond: more digits are noise, and they cost bytes on every scrape. */
const micro = (seconds: number): number => Math.round(seconds * 1e6) / 1e6;

function certificateLines(name: string, pick: 'notAfter' | 'notBefore'): ChainLines {
  return (chain, subject) => chain.presented.map(({ depth, cert }) => (cert === undefined ? '' : line(name, [
    ...subject, ['depth', String(depth)], ['subject_cn', cert.subject.commonName], ['issuer_cn', cert.issuer.commonName],
    ['serial', cert.serialHex], ['fingerprint_sha256', cert.fingerprintSha256],
  ], cert[pick] / 1000))).join('');
}

/** certexp_<check>_status, one series per status, and certexp_<check>_next_update_timestamp_seconds, for OCSP and CRLs alike. */
function revocationFamilies(check: 'ocsp' | 'crl', statuses: readonly string[], statusHelp: string, nextUpdateHelp: string): ResultFamily[] {
  const status = `certexp_${check}_status`;
  const nextUpdate = `certexp_${check}_next_update_timestamp_seconds`;
  return [
    {
      name: status, type: 'gauge', help: statusHelp,
      lines: (r, t) => (r[check] === undefined ? '' : statuses.map((s) => targetLine(status, t, statusLabel(s), r[check]?.status === s ? 1 : 0)).join('')),
    },
    {
      name: nextUpdate, type: 'gauge', help: nextUpdateHelp,
      lines: (r, t) => {
        const answer = r[check];
        const next = answer === undefined || answer.status === 'error' ? undefined : answer.nextUpdate;
        return next === undefined ? '' : targetLine(nextUpdate, t, '', next / 1000);
      },
    },
  ];
}

/**
 * The families of the chain come first in a target's bytes: a probe that got the same chain as
 * the last (the analyzer hands back the very same analysis) leaves their sections as they are,
 * and the certificate lines, the longest, are rendered only when the chain changes.
 */
const CHAIN_FAMILIES: readonly ResultFamily[] = [
  chainFamily('certexp_verify_success', 'Whether the last received chain (or the chain a file holds) verified: trust, dates, name, policy.',
    (chain, subject) => line('certexp_verify_success', subject, chain.verified ? 1 : 0)),
  chainFamily('certexp_verify_failure', 'One series per reason the last received chain (or a file\'s chain) failed verification.',
    (chain, subject) => chain.reasons.map((reason) => line('certexp_verify_failure', [...subject, ['reason', reason]], 1)).join('')),
  chainFamily('certexp_cert_not_after_timestamp_seconds', 'notAfter of every certificate the server presented or the file holds; depth 0 is the leaf.',
    certificateLines('certexp_cert_not_after_timestamp_seconds', 'notAfter')),
  chainFamily('certexp_cert_not_before_timestamp_seconds', 'notBefore of every certificate the server presented or the file holds; depth 0 is the leaf.',
    certificateLines('certexp_cert_not_before_timestamp_seconds', 'notBefore')),
];

const OTHER_FAMILIES: readonly ResultFamily[] = [
  {
    name: 'certexp_probe_success', type: 'gauge', help: 'Whether the last probe got a certificate chain over a finished TLS handshake.',
    lines: (r, t) => targetLine('certexp_probe_success', t, '', r.failure === undefined ? 1 : 0),
  },
  {
    name: 'certexp_probe_failure', type: 'gauge', help: 'One series, 1, for the reason the last probe got no certificate chain; absent when it got one.',
    lines: (r, t) => (r.failure === undefined ? '' : targetLine('certexp_probe_failure', t, reasonLabel(r.failure.reason), 1)),
  },
  {
    name: 'certexp_probe_duration_seconds', type: 'gauge', help: 'Duration of each phase of the last probe.',
    lines: (r, t) => Object.entries(r.phases).map(([phase, seconds]) => targetLine('certexp_probe_duration_seconds', t, phaseLabel(phase), micro(seconds))).join(''),
  },
  {
    name: 'certexp_tls_info', type: 'gauge', help: 'Protocol version and cipher of the last completed handshake (value 1).',
    lines: (r, t) => (r.tls === undefined ? '' : targetLine('certexp_tls_info', t, versionLabel(r.tls.version) + cipherLabel(r.tls.cipher), 1)),
  },
  {
    name: 'certexp_address_probe_success', type: 'gauge', help: 'With addresses: all, per address of the name: whether its last probe got a certificate chain.',
    lines: (r, t) => (r.addresses ?? []).map((a) => line('certexp_address_probe_success', [['target', t], ['address', a.address]], a.failure === undefined ? 1 : 0)).join(''),
  },
  {
    name: 'certexp_address_verify_success', type: 'gauge', help: 'With addresses: all, per address: whether the chain it presented in the last probe verified.',
    lines: (r, t) => (r.addresses ?? []).map((a) => (a.chain === undefined ? '' : line('certexp_address_verify_success', [['target', t], ['address', a.address]], a.chain.verified ? 1 : 0))).join(''),
  },
  {
    name: 'certexp_address_cert_not_after_timestamp_seconds', type: 'gauge', help: 'With addresses: all, per address: notAfter of the leaf it presented in the last probe.',
    lines: (r, t) => (r.addresses ?? []).map((a) => {
      const leaf = a.chain?.presented[0]?.cert;
      return leaf === undefined ? '' : line('certexp_address_cert_not_after_timestamp_seconds', [['target', t], ['address', a.address], ['fingerprint_sha256', leaf.fingerprintSha256]], leaf.notAfter / 1000);
    }).join(''),
  },
  {
    name: 'certexp_distinct_leaf_certificates', type: 'gauge',
    help: 'With addresses: all, how many different leaf certificates the addresses presented in the last probe; above 1, a node serves another (often stale) certificate.',
    lines: (r, t) => (r.addresses === undefined ? '' : line('certexp_distinct_leaf_certificates', [['target', t]],
      new Set(r.addresses.flatMap((a) => a.chain?.presented[0]?.fingerprintSha256 ?? [])).size)),
  },
  {
    name: 'certexp_tls_protocol_accepted', type: 'gauge', help: 'Per version in the target\'s check_versions, 1 when the server completed a handshake offering that version alone.',
    lines: (r, t) => Object.entries(r.versions ?? {}).map(([version, accepted]) => targetLine('certexp_tls_protocol_accepted', t, versionLabel(version), accepted ? 1 : 0)).join(''),
  },
  {
    name: 'certexp_last_probe_timestamp_seconds', type: 'gauge', help: 'When the last probe finished, in seconds since the epoch.',
    lines: (r, t) => targetLine('certexp_last_probe_timestamp_seconds', t, '', r.finishedAt / 1000),
  },
  ...revocationFamilies('ocsp', OCSP_STATUSES,
    "The leaf's OCSP status from the last check, one series per status (good, revoked, unknown, error), 1 for the current one.",
    'nextUpdate of the OCSP response behind certexp_ocsp_status: when the responder promises newer information.'),
  ...revocationFamilies('crl', CRL_STATUSES,
    "The leaf's status in the CRL of its distribution point, one series per status (good, revoked, error), 1 for the current one.",
    'nextUpdate of the CRL behind certexp_crl_status: when the CA promises the next one.'),
];

const RESULT_FAMILIES: readonly ResultFamily[] = [...CHAIN_FAMILIES, ...OTHER_FAMILIES];

const REMAINING_DAYS: Family = {
  name: 'certexp_cert_remaining_days', type: 'gauge',
  help: 'Days until the earliest notAfter on the chain verification built, leaf to anchor (negative once expired); per target and per certificate file.',
};

const HISTOGRAM = 'certexp_tls_handshake_duration_seconds';
const [BUCKET, SUM, COUNT] = [`${HISTOGRAM}_bucket`, `${HISTOGRAM}_sum`, `${HISTOGRAM}_count`];

const COUNT_FAMILIES: readonly Family[] = [
  { name: 'certexp_probes_total', type: 'counter', help: 'Probes run.' },
  { name: 'certexp_probe_failures_total', type: 'counter', help: 'Probes that got no certificate chain, by reason.' },
  { name: 'certexp_verify_failures_total', type: 'counter', help: 'Probes whose chain failed verification, by reason.' },
  { name: HISTOGRAM, type: 'histogram', help: 'TLS handshake latency, from TCP connected to handshake done.' },
];

/** A target's lines of each COUNT_FAMILIES entry, from the running counts in the results store. */
function countLines(target: string, c: Readonly<TargetCounts>, buckets: readonly number[]): string[] {
  const { bucketCounts, sum, count } = c.handshake;
  const histogramLines = count === 0 ? '' : [
    ...buckets.map((bound, i) => targetLine(BUCKET, target, leLabel(bound), bucketCounts[i] ?? 0)),
    targetLine(BUCKET, target, ',le="+Inf"', count),
    targetLine(SUM, target, '', micro(sum)),
    targetLine(COUNT, target, '', count),
  ].join('');
  return [
    targetLine('certexp_probes_total', target, '', c.probes),
    [...c.probeFailures].map(([reason, n]) => targetLine('certexp_probe_failures_total', target, reasonLabel(reason), n)).join(''),
    [...c.verifyFailures].map(([reason, n]) => targetLine('certexp_verify_failures_total', target, reasonLabel(reason), n)).join(''),
    histogramLines,
  ];
}

/**
 * A target's lines of every per-target family that does not depend on the time of the scrape:
 * one text per RESULT_FAMILIES entry, then one per COUNT_FAMILIES entry (empty without counts,
 * as for a /probe answer). Undefined for the chain's families when `last` already holds them.
 */
export function targetFamilyTexts(result: TargetResult, counts: Readonly<TargetCounts> | undefined, buckets: readonly number[], last?: Rendered): (string | undefined)[] {
  const counted = counts === undefined ? COUNT_FAMILIES.map(() => '') : countLines(result.target, counts, buckets);
  const sameChain = last !== undefined && last.from.target === result.target && last.from.chain === result.chain;
  const render = (family: ResultFamily): string => family.lines(result, result.target);
  return [...(sameChain ? CHAIN_FAMILIES.map(() => undefined) : CHAIN_FAMILIES.map(render)), ...OTHER_FAMILIES.map(render), ...counted];
}

/**
 * A target's lines packed as bytes, one section per family (sections.ts): built when its probe is
 * recorded, since probes are spread over the interval and so is the work, and a scrape of 10,000
 * targets only copies bytes. Results and counts change only together, by the next probe, which
 * writes into the last probe's bytes (`last`) when they fit, keeping the chain's sections when
 * its chain is the last one's.
 */
export function encodeTarget(result: TargetResult, counts: Readonly<TargetCounts> | undefined, buckets: readonly number[], last?: Rendered): Buffer {
  return packSections(targetFamilyTexts(result, counts, buckets, last), last?.bytes);
}

/**
 * The result-derived families for these results (`encoded[i]` is encodeTarget of `results[i]`)
 * and certificate files, remaining days computed at `now`, as the parts a body is made of
 * (exposition-body.ts).
 */
export function* resultFamilyParts(results: readonly TargetResult[], encoded: readonly Buffer[], now: number, format: Format, files: readonly FileResult[] = []): Generator<BodyPart> {
  for (const [index, family] of RESULT_FAMILIES.entries()) {
    yield familyHeader(family.name, family.help, family.type, format);
    yield { section: index, of: encoded };
    if (family.fileLines !== undefined) yield files.map((file) => family.fileLines?.(file) ?? '');
  }
  yield familyHeader(REMAINING_DAYS.name, REMAINING_DAYS.help, REMAINING_DAYS.type, format);
  yield results.map((result) => {
    const notAfter = result.chain?.earliestNotAfter;
    return notAfter === undefined ? '' : targetLine(REMAINING_DAYS.name, result.target, '', (notAfter - now) / DAY_MS);
  });
  yield files.map((file) => {
    const notAfter = file.chain?.earliestNotAfter;
    return notAfter === undefined ? '' : line(REMAINING_DAYS.name, fileSubject(file), (notAfter - now) / DAY_MS);
  });
}

/** The result-derived families as one string, from the same bytes as a scrape: for a /probe answer, where there is one result. */
export function renderResultFamilies(results: readonly TargetResult[], now: number, format: Format): string {
  return bodyText(resultFamilyParts(results, results.map((result) => encodeTarget(result, undefined, [])), now, format));
}

/** Counters and the handshake histogram: the count sections of encodeTarget, in the order of `encoded`. */
export function* countFamilyParts(encoded: readonly Buffer[], format: Format): Generator<BodyPart> {
  for (const [index, family] of COUNT_FAMILIES.entries()) {
    yield familyHeader(family.name, family.help, family.type, format);
    yield { section: RESULT_FAMILIES.length + index, of: encoded };
  }
}

/** A target's configuration lines, built once per loaded config: targets are replaced, not changed, by a reload. */
const configLines = new WeakMap<TargetConfig, readonly [string, string]>();

function configLinesOf(target: TargetConfig): readonly [string, string] {
  let lines = configLines.get(target);
  if (lines === undefined) {
    const { name, intervalMs, clientCertificate } = target;
    lines = [
      targetLine('certexp_probe_interval_seconds', name, '', intervalMs / 1000),
      clientCertificate === undefined ? '' : targetLine('certexp_client_cert_not_after_timestamp_seconds', name, '', clientCertificate.notAfter / 1000),
    ];
    configLines.set(target, lines);
  }
  return lines;
}

/** Configuration, probed yet or not: staleness alerts compare against the interval. */
export function* configFamilyParts(targets: Iterable<TargetConfig>, format: Format): Generator<BodyPart> {
  const perTarget = Array.from(targets, configLinesOf);
  yield familyHeader('certexp_probe_interval_seconds', 'Configured probe interval of each target.', 'gauge', format);
  yield perTarget.map(([interval]) => interval);
  yield familyHeader('certexp_client_cert_not_after_timestamp_seconds', 'notAfter of the client certificate (cert_file) each target presents.', 'gauge', format);
  yield perTarget.map(([, clientCertificate]) => clientCertificate);
}
