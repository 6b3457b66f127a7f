import { formatDuration, parseDuration, POSITIVE_DURATION_PATTERN } from '../../src/config/duration';

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;

describe('parseDuration', () => {
  it.each<[string, number]>([
    ['0s', 0],
    ['500ms', 500],
    ['1ms', 1],
    ['10s', 10 * S],
    ['5m', 5 * M],
    ['90m', 90 * M],
    ['1h', H],
    ['1h30m', H + 30 * M],
    ['1d12h', D + 12 * H],
    ['1d', D],
    ['2w', 14 * D],
    ['1w2d3h4m5s6ms', 7 * D + 2 * D + 3 * H + 4 * M + 5 * S + 6],
    ['1m500ms', M + 500],
    ['007s', 7 * S],
  ])('returns the milliseconds when given %j', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each([
    [''],
    ['10'], // bare number: the unit is not optional
    ['0'],
    ['-5s'],
    ['+5s'],
    ['1.5h'],
    ['.5s'],
    ['5 m'],
    [' 5m'],
    ['5m '],
    ['1h 30m'],
    ['5M'],
    ['5y'],
    ['5us'],
    ['1s1m'], // ascending order
    ['5m5m'], // repeated unit
    ['1ms1s'],
    ['h'],
    ['ms'],
    ['1e3ms'],
    ['99999999999999999w'], // beyond exact integers
  ])('returns undefined when given %j', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });
});

describe('formatDuration', () => {
  it.each<[number, string]>([
    [0, '0s'],
    [1, '1ms'],
    [500, '500ms'],
    [90 * S, '1m30s'],
    [5 * M, '5m'],
    [H + 30 * M, '1h30m'],
    [D + 12 * H, '1d12h'],
    [8 * D, '1w1d'],
    [M + 500, '1m500ms'],
  ])('writes %j ms as %j', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it.each([0, 1, 999, 1000, 61_001, 3_600_000, 123_456_789, 2 ** 40])('round-trips through parseDuration when given %j', (ms) => {
    expect(parseDuration(formatDuration(ms))).toBe(ms);
  });

  it.each([-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])('throws a RangeError when given %j', (ms) => {
    expect(() => formatDuration(ms)).toThrow(RangeError);
  });
});

describe('POSITIVE_DURATION_PATTERN', () => {
  // The published JSON Schema uses the pattern, loadConfig uses parseDuration: they must agree
  // on everything except amounts too large to add up exactly, which only parseDuration rejects.
  const pattern = new RegExp(POSITIVE_DURATION_PATTERN);
  it.each(['0s', '00m', '0w0d0h0m0s0ms', '', '10', '1.5h', '1s1m', '5 m', '-5s', '500ms', '1ms', '1h30m', '0h1s', '10d', '2w'])(
    'accepts exactly the positive durations parseDuration accepts when given %j',
    (text) => {
      const ms = parseDuration(text);
      expect(pattern.test(text)).toBe(ms !== undefined && ms > 0);
    },
  );
});
