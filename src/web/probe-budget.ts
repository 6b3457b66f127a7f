/**
 * How long a /probe request may take. Prometheus sends its scrape timeout in
 * X-Prometheus-Scrape-Timeout-Seconds; a probe that runs past it is an answer nobody reads, and a
 * failed scrape (up 0) instead of the target's own failure. So, as blackbox_exporter does, the
 * probe gets the target's timeout or the header's value less an offset, whichever is shorter: a
 * slow target then answers certexp_probe_success 0 with its timeout reason, in time.
 */

/** blackbox_exporter's --timeout-offset default: room to render and send the answer. */
export const DEFAULT_TIMEOUT_OFFSET_MS = 500;

const SECONDS = /^\d{1,6}(?:\.\d{1,9})?$/;

/**
 * The budget in whole milliseconds, or what is wrong with the header. An offset as large as the scrape
 * timeout itself would leave nothing, so then half the scrape timeout is used instead.
 */
export function probeBudgetMs(targetTimeoutMs: number, header: string | readonly string[] | undefined, offsetMs: number): { readonly budgetMs: number } | { readonly error: string } {
  if (header === undefined) return { budgetMs: targetTimeoutMs };
  const text = typeof header === 'string' ? header.trim() : undefined;
  const scrapeMs = text !== undefined && SECONDS.test(text) ? Number(text) * 1000 : 0;
  if (scrapeMs <= 0) return { error: `X-Prometheus-Scrape-Timeout-Seconds ${JSON.stringify(header)}: want one positive number of seconds` };
  const room = scrapeMs > offsetMs ? scrapeMs - offsetMs : scrapeMs / 2;
  // Whole milliseconds: timers take nothing finer.
  return { budgetMs: Math.floor(Math.min(targetTimeoutMs, room)) };
}
