import type { Clock } from '../clock';
import type { TargetConfig } from '../config/config-types';
import type { TargetResult } from '../results/target-result';

const DAY_MS = 86_400_000;

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function verdict(result: TargetResult | undefined): string {
  if (result === undefined) return 'not probed yet';
  if (result.failure !== undefined) return `probe failed: ${result.failure.reason}`;
  if (result.chain?.verified === true) return 'ok';
  return `verification failed: ${(result.chain?.reasons ?? []).join(', ')}`;
}

function row(target: TargetConfig, result: TargetResult | undefined, clock: Clock): string {
  const notAfter = result?.chain?.earliestNotAfter;
  const days = notAfter === undefined ? '' : ((notAfter - clock.now()) / DAY_MS).toFixed(1);
  const latency = result?.phases.handshake === undefined ? '' : `${(result.phases.handshake * 1000).toFixed(0)} ms`;
  const cells = [target.name, `${target.serverName} @ ${target.host}:${target.port}`, days, verdict(result), latency,
    result === undefined ? '' : new Date(result.finishedAt).toISOString()];
  return `<tr>${cells.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`;
}

/** A plain page for a person: every target, days left, verdict, latency. No external assets. */
export function renderStatusPage(targets: readonly TargetConfig[], latest: (name: string) => TargetResult | undefined, clock: Clock): string {
  const rows = targets.map((t) => row(t, latest(t.name), clock)).join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>certexp</title>
<style>body{font-family:system-ui,sans-serif;margin:2em}table{border-collapse:collapse}td,th{padding:.3em .8em;border-bottom:1px solid #ddd;text-align:left}</style>
</head><body>
<h1>certexp</h1>
<p><a href="metrics">Metrics</a> &middot; <a href="-/healthy">Health</a> &middot; <a href="-/ready">Readiness</a></p>
<table>
<thead><tr><th>Target</th><th>Endpoint</th><th>Days left</th><th>Verdict</th><th>Handshake</th><th>Last probe</th></tr></thead>
<tbody>
${rows}
</tbody></table>
</body></html>
`;
}
