/**
 * Prometheus-style durations ("1h30m", "500ms"). Integer amounts only, units in descending order
 * without repeats, so every duration has exactly one spelling and formatDuration can invert it.
 */

const UNITS = [
  ['w', 7 * 24 * 60 * 60 * 1000],
  ['d', 24 * 60 * 60 * 1000],
  ['h', 60 * 60 * 1000],
  ['m', 60 * 1000],
  ['s', 1000],
  ['ms', 1],
] as const;

// The m group comes before the ms group, yet "500ms" still parses: the m group would leave a
// dangling "s", so the regex backtracks and hands the digits to the ms group.
const DURATION = /^(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;

/**
 * The same grammar as a JSON Schema pattern, restricted to durations above zero (the lookahead
 * wants a non-zero digit), so editors flag bad durations before certexp ever reads the file.
 * The tests hold it and parseDuration to the same table.
 */
export const POSITIVE_DURATION_PATTERN =
  '^(?=.*[1-9])(?:[0-9]+w)?(?:[0-9]+d)?(?:[0-9]+h)?(?:[0-9]+m)?(?:[0-9]+s)?(?:[0-9]+ms)?$';

/** Examples quoted in error messages, kept here so every message agrees. */
export const DURATION_EXAMPLES = '500ms, 10s, 5m, 1h, 1d';

/** Milliseconds for a duration like "1h30m", or undefined when the text is not one. */
export function parseDuration(text: string): number | undefined {
  if (text === '') return undefined;
  const match = DURATION.exec(text);
  if (match === null) return undefined;
  let total = 0;
  UNITS.forEach(([, size], index) => {
    const amount = match[index + 1];
    if (amount !== undefined) total += Number(amount) * size;
  });
  // Beyond 2^53 the sum is no longer exact, so the round trip through formatDuration would lie.
  return Number.isSafeInteger(total) ? total : undefined;
}

/** The canonical spelling of a duration: largest units first, zero parts left out, "0s" for zero. */
export function formatDuration(ms: number): string {
  if (!Number.isSafeInteger(ms) || ms < 0) throw new RangeError(`not a duration in milliseconds: ${ms}`);
  if (ms === 0) return '0s';
  let rest = ms;
  let text = '';
  for (const [unit, size] of UNITS) {
    const amount = Math.floor(rest / size);
    if (amount > 0) text += `${amount}${unit}`;
    rest -= amount * size;
  }
  return text;
}
