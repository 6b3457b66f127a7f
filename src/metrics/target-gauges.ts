import { Gauge } from 'prom-client';
import type { AnyRegistry } from './any-registry';
import type { Clock } from '../clock';
import type { TargetResult } from '../results/target-result';

const DAY_MS = 86_400_000;
const CERT_LABELS = ['target', 'depth', 'subject_cn', 'issuer_cn', 'serial', 'fingerprint_sha256'] as const;

type Source = () => Iterable<TargetResult>;

/**
 * A gauge whose values are computed from the results at scrape time (prom-client's collect()),
 * so series of removed targets vanish with them and remaining days are exact at every scrape.
 */
function snapshotGauge<L extends string>(
  registry: AnyRegistry,
  name: string,
  help: string,
  labelNames: readonly L[],
  source: Source,
  fill: (gauge: Gauge<L>, result: TargetResult) => void,
): void {
  new Gauge<L>({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      this.reset();
      for (const result of source()) fill(this, result);
    },
  });
}

/** Every per-target gauge of the contract, reading `source` at scrape time. */
export function registerTargetGauges(registry: AnyRegistry, source: Source, clock: Clock): void {
  snapshotGauge(registry, 'certexp_probe_success', 'Whether the last probe got a certificate chain over a finished TLS handshake.', ['target'], source,
    (g, r) => { g.set({ target: r.target }, r.failure === undefined ? 1 : 0); });

  snapshotGauge(registry, 'certexp_verify_success', 'Whether the last received chain verified: trust, dates, name, policy.', ['target'], source,
    (g, r) => { if (r.chain !== undefined) g.set({ target: r.target }, r.chain.verified ? 1 : 0); });

  snapshotGauge(registry, 'certexp_verify_failure', 'One series per reason the last received chain failed verification.', ['target', 'reason'], source,
    (g, r) => { for (const reason of r.chain?.reasons ?? []) g.set({ target: r.target, reason }, 1); });

  snapshotGauge(registry, 'certexp_cert_remaining_days',
    'Days until the earliest notAfter on the chain verification built, leaf to anchor (negative once expired).', ['target'], source,
    (g, r) => {
      const notAfter = r.chain?.earliestNotAfter;
      if (notAfter !== undefined) g.set({ target: r.target }, (notAfter - clock.now()) / DAY_MS);
    });

  const certificateGauge = (name: string, help: string, pick: 'notAfter' | 'notBefore'): void => {
    snapshotGauge(registry, name, help, CERT_LABELS, source, (g, r) => {
      for (const { depth, cert } of r.chain?.presented ?? []) {
        if (cert === undefined) continue;
        g.set({
          target: r.target,
          depth: String(depth),
          subject_cn: cert.subject.commonName,
          issuer_cn: cert.issuer.commonName,
          serial: cert.serialHex,
          fingerprint_sha256: cert.fingerprintSha256,
        }, cert[pick] / 1000);
      }
    });
  };
  certificateGauge('certexp_cert_not_after_timestamp_seconds', 'notAfter of every certificate the server presented; depth 0 is the leaf.', 'notAfter');
  certificateGauge('certexp_cert_not_before_timestamp_seconds', 'notBefore of every certificate the server presented; depth 0 is the leaf.', 'notBefore');

  snapshotGauge(registry, 'certexp_probe_duration_seconds', 'Duration of each phase of the last probe.', ['target', 'phase'], source,
    (g, r) => {
      for (const [phase, seconds] of Object.entries(r.phases)) g.set({ target: r.target, phase }, seconds);
    });

  snapshotGauge(registry, 'certexp_tls_info', 'Protocol version and cipher of the last completed handshake (value 1).', ['target', 'version', 'cipher'], source,
    (g, r) => { if (r.tls !== undefined) g.set({ target: r.target, version: r.tls.version, cipher: r.tls.cipher }, 1); });

  snapshotGauge(registry, 'certexp_last_probe_timestamp_seconds', 'When the last probe finished, in seconds since the epoch.', ['target'], source,
    (g, r) => { g.set({ target: r.target }, r.finishedAt / 1000); });
}
