import type { Clock } from '../clock';
import type { TargetConfig } from '../config/config-types';
import { PROBE_FAILURE_REASONS } from '../probing/probe-failure';
import type { FileResult } from '../results/file-result';
import type { TargetResult } from '../results/target-result';
import { formatShard, type Shard } from '../scheduling/shard';
import { VERIFY_FAILURE_REASONS } from '../pki/verify-reasons';

const DAY_MS = 86_400_000;

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Thresholds of the shipped alerts: under 7 days critical, under 30 warning. */
function band(days: number | undefined, failing: boolean): string {
  if (days === undefined) return failing ? 'bad' : 'none';
  if (failing || days < 7) return 'bad';
  return days < 30 ? 'warn' : 'good';
}

function verdict(result: TargetResult | undefined): { text: string; failing: boolean; fixes: string[] } {
  if (result === undefined) return { text: 'not probed yet', failing: false, fixes: [] };
  const fixes = (result.chain?.reasons ?? []).map((r) => `${r}: ${VERIFY_FAILURE_REASONS[r]}`);
  if (result.failure !== undefined) {
    return { text: `probe failed: ${result.failure.reason}`, failing: true, fixes: [`${result.failure.reason}: ${PROBE_FAILURE_REASONS[result.failure.reason]} (${result.failure.error})`, ...fixes] };
  }
  if (result.chain?.verified === true) return { text: 'ok', failing: false, fixes: [] };
  return { text: `not verified: ${(result.chain?.reasons ?? []).join(', ')}`, failing: true, fixes };
}

function chainDetail(result: TargetResult | undefined, now: number): string {
  const chain = result?.chain;
  if (chain === undefined) return '<p>No certificate chain received yet.</p>';
  const onPath = new Set(chain.path.map((c) => c.fingerprintSha256));
  const rows = chain.presented.map(({ depth, cert, fingerprintSha256, error }) => {
    if (cert === undefined) return `<tr><td>${depth}</td><td colspan="4">unparsable: ${escapeHtml(error ?? '')}</td><td><code>${fingerprintSha256.slice(0, 16)}</code></td></tr>`;
    const days = ((cert.notAfter - now) / DAY_MS).toFixed(1);
    const used = onPath.has(fingerprintSha256) ? '' : ' (not on the verified path)';
    return `<tr><td>${depth}</td><td>${escapeHtml(cert.subject.text)}${used}</td><td>${escapeHtml(cert.issuer.text)}</td>`
      + `<td>${new Date(cert.notAfter).toISOString()}</td><td>${days}</td><td><code>${fingerprintSha256.slice(0, 16)}</code></td></tr>`;
  }).join('');
  const anchor = chain.trusted ? chain.path.at(-1) : undefined;
  const anchorNote = anchor === undefined || chain.presented.some((p) => p.fingerprintSha256 === anchor.fingerprintSha256)
    ? '' : `<p>Trust anchor: ${escapeHtml(anchor.subject.text)}</p>`;
  return `<table class="chain"><thead><tr><th>#</th><th>Subject</th><th>Issuer</th><th>Not after</th><th>Days</th><th>SHA-256</th></tr></thead><tbody>${rows}</tbody></table>${anchorNote}`;
}

function rows(target: TargetConfig, result: TargetResult | undefined, clock: Clock, index: number): string {
  const now = clock.now();
  const notAfter = result?.chain?.earliestNotAfter;
  const days = notAfter === undefined ? undefined : (notAfter - now) / DAY_MS;
  const { text, failing, fixes } = verdict(result);
  const leaf = result?.chain?.presented[0]?.cert;
  const handshake = result?.phases.handshake;
  const cells = [
    `<td>${escapeHtml(target.name)}<div class="sub">${escapeHtml(`${target.serverName} @ ${target.host}:${target.port}`)}</div></td>`,
    `<td class="num">${days === undefined ? '–' : days.toFixed(1)}</td>`,
    `<td>${escapeHtml(text)}</td>`,
    `<td>${escapeHtml(leaf?.issuer.commonName ?? '')}</td>`,
    `<td>${escapeHtml(result?.tls?.version ?? '')}</td>`,
    `<td class="num">${handshake === undefined ? '' : `${(handshake * 1000).toFixed(0)} ms`}</td>`,
    `<td>${result === undefined ? '' : `${new Date(result.finishedAt).toISOString().slice(0, 19).replace('T', ' ')}Z`}</td>`,
  ];
  const data = `data-name="${escapeHtml(target.name)}" data-days="${days ?? ''}" data-verdict="${escapeHtml(text)}" data-handshake="${handshake ?? ''}"`;
  const fixList = fixes.length === 0 ? '' : `<ul class="fixes">${fixes.map((f) => `<li>${escapeHtml(f)}</li>`).join('')}</ul>`;
  return `<tr class="target band-${band(days, failing)}" id="row-${index}" ${data} tabindex="0">${cells.join('')}</tr>\n`
    + `<tr class="detail" id="detail-${index}" hidden><td colspan="7">${fixList}${chainDetail(result, now)}</td></tr>`;
}

/** The certificate files of `files:`, each a row: days left in the same bands, the verdict, why a read failed. */
function fileTable(files: readonly FileResult[], now: number): string {
  if (files.length === 0) return '';
  const rows = files.map((f) => {
    const notAfter = f.chain?.earliestNotAfter;
    const days = notAfter === undefined ? undefined : (notAfter - now) / DAY_MS;
    const reasons = f.chain?.reasons ?? [];
    const text = f.failure !== undefined ? `unreadable: ${f.failure.reason} (${f.failure.error})` : reasons.length === 0 ? 'ok' : `not verified: ${reasons.join(', ')}`;
    const failing = f.failure !== undefined || reasons.length > 0;
    return `<tr class="band-${band(days, failing)}"><td>${escapeHtml(f.file)}<div class="sub">${escapeHtml(f.source)}</div></td>`
      + `<td class="num">${days === undefined ? '–' : days.toFixed(1)}</td><td>${escapeHtml(text)}</td>`
      + `<td>${escapeHtml(f.chain?.presented[0]?.cert?.issuer.commonName ?? '')}</td><td>${new Date(f.readAt).toISOString().slice(0, 19).replace('T', ' ')}Z</td></tr>`;
  }).join('\n');
  return `<h2>Certificate files</h2>
<table id="files">
<thead><tr><th>File</th><th>Days left</th><th>Verdict</th><th>Issuer</th><th>Last read</th></tr></thead>
<tbody>
${rows}
</tbody></table>
`;
}

const STYLE = `body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}h1{margin:0 0 .3em}
table{border-collapse:collapse;width:100%}td,th{padding:.35em .6em;border-bottom:1px solid #ddd;text-align:left;vertical-align:top}
th{cursor:pointer;user-select:none;background:#f4f4f4}th[aria-sort=ascending]::after{content:" ▲"}th[aria-sort=descending]::after{content:" ▼"}
tr.target{cursor:pointer}tr.target:hover{background:#fafafa}.num{text-align:right;font-variant-numeric:tabular-nums}
.sub{color:#777;font-size:.85em}.band-bad td:nth-child(2){background:#f8d0d0}.band-warn td:nth-child(2){background:#fbe6b5}
.band-good td:nth-child(2){background:#d4efd4}table.chain{width:auto;font-size:.9em}ul.fixes{margin:.2em 0 .6em}
#filter{padding:.4em;width:20em;margin:.6em 0}.summary span{margin-right:1.2em}`;

/** Sorting, filtering and the detail rows, in plain DOM: the page works offline, with no external assets. */
const SCRIPT = `(function(){
var body=document.querySelector('#targets tbody');
function pairs(){return Array.prototype.filter.call(body.rows,function(r){return r.classList.contains('target')}).map(function(r){return [r,r.nextElementSibling]})}
document.querySelectorAll('#targets th').forEach(function(th,col){th.addEventListener('click',function(){
var key=th.dataset.key,numeric=th.dataset.type==='number',asc=th.getAttribute('aria-sort')!=='ascending';
document.querySelectorAll('#targets th').forEach(function(h){h.removeAttribute('aria-sort')});th.setAttribute('aria-sort',asc?'ascending':'descending');
var list=pairs();list.sort(function(a,b){var x=key?a[0].dataset[key]:a[0].cells[col].textContent,y=key?b[0].dataset[key]:b[0].cells[col].textContent;
if(numeric){x=x===''?Infinity:parseFloat(x);y=y===''?Infinity:parseFloat(y);return asc?x-y:y-x}return asc?String(x).localeCompare(y):String(y).localeCompare(x)});
list.forEach(function(p){body.appendChild(p[0]);body.appendChild(p[1])})})});
function toggle(r){var d=r.nextElementSibling;d.hidden=!d.hidden}
pairs().forEach(function(p){p[0].addEventListener('click',function(){toggle(p[0])});p[0].addEventListener('keydown',function(e){if(e.key==='Enter')toggle(p[0])})});
document.getElementById('filter').addEventListener('input',function(e){var q=e.target.value.toLowerCase();
pairs().forEach(function(p){var show=p[0].textContent.toLowerCase().indexOf(q)>=0;p[0].hidden=!show;if(!show)p[1].hidden=true})});
})();`;

/**
 * A page for a person: every target with days left (colour bands), verdict, issuer, TLS, latency; a click shows the chain.
 * A sharded replica lists its shard's targets and says how many the file holds.
 */
export function renderStatusPage(
  targets: readonly TargetConfig[],
  latest: (name: string) => TargetResult | undefined,
  clock: Clock,
  sharding?: { readonly shard: Shard; readonly targets: number },
  files: readonly FileResult[] = [],
): string {
  const results = targets.map((t) => latest(t.name));
  const failing = results.filter((r) => r !== undefined && verdict(r).failing).length;
  const soon = results.filter((r) => r?.chain?.earliestNotAfter !== undefined && r.chain.earliestNotAfter - clock.now() < 30 * DAY_MS).length;
  const body = targets.map((t, i) => rows(t, results[i], clock, i)).join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>certexp</title>
<style>${STYLE}</style></head><body>
<h1>certexp</h1>
<p class="summary"><span>${targets.length} targets</span>${sharding === undefined ? '' : `<span>shard ${formatShard(sharding.shard)} of ${sharding.targets} configured</span>`}<span>${failing} failing</span><span>${soon} expiring within 30 days</span>
<a href="metrics">Metrics</a> · <a href="-/healthy">Health</a> · <a href="-/ready">Readiness</a></p>
<input id="filter" type="search" placeholder="Filter targets" aria-label="Filter targets">
<table id="targets">
<thead><tr><th data-key="name">Target</th><th data-key="days" data-type="number">Days left</th><th data-key="verdict">Verdict</th><th>Issuer</th><th>TLS</th><th data-key="handshake" data-type="number">Handshake</th><th>Last probe</th></tr></thead>
<tbody>
${body}
</tbody></table>
${fileTable(files, clock.now())}<script>${SCRIPT}</script>
</body></html>
`;
}
