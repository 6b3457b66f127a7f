import { parseDaemonFlags, UsageError } from '../../src/cli/daemon-flags';

describe('the /probe flags', () => {
  it('default to blackbox_exporter\'s 0.5 s offset and 128 requests probing at once', () => {
    expect(parseDaemonFlags([]).probeEndpoint).toEqual({ timeoutOffsetMs: 500, concurrency: 128 });
    expect(parseDaemonFlags(['--probe.timeout-offset=1.25', '--probe.endpoint-concurrency=8']).probeEndpoint).toEqual({ timeoutOffsetMs: 1250, concurrency: 8 });
    expect(parseDaemonFlags(['--probe.timeout-offset=0']).probeEndpoint.timeoutOffsetMs).toBe(0);
  });

  it.each<[string, string]>([
    ['--probe.timeout-offset=-1', '--probe.timeout-offset=-1: want a number of seconds, 0 or more (e.g. 0.5)'],
    ['--probe.timeout-offset=500ms', '--probe.timeout-offset=500ms: want a number of seconds, 0 or more (e.g. 0.5)'],
    ['--probe.endpoint-concurrency=0', '--probe.endpoint-concurrency=0: want a whole number of at least 1'],
    ['--probe.endpoint-concurrency=2.5', '--probe.endpoint-concurrency=2.5: want a whole number of at least 1'],
  ])('refuses %s', (flag, message) => {
    expect(() => parseDaemonFlags([flag])).toThrow(new UsageError(message));
  });
});

describe.each<[string, 'loopDelayTargetMs' | 'batchWindowMs', number, string]>([
  ['--probe.loop-delay-target', 'loopDelayTargetMs', 10, '0.01'],
  ['--probe.batch-window', 'batchWindowMs', 50, '0.05'],
])('%s', (flag, key, defaultMs, example) => {
  it('has its default, takes seconds to the millisecond, and 0 turns it off', () => {
    expect(parseDaemonFlags([])[key]).toBe(defaultMs);
    expect(parseDaemonFlags([`${flag}=0.025`])[key]).toBe(25);
    expect(parseDaemonFlags([`${flag}=1`])[key]).toBe(1000);
    expect(parseDaemonFlags([`${flag}=0`])[key]).toBe(0);
  });

  it.each([
    ['50ms', `want a number of seconds, 0 or more (e.g. ${example})`],
    ['1.5', 'at most 1 second'],
  ])('refuses %s', (value, message) => {
    expect(() => parseDaemonFlags([`${flag}=${value}`])).toThrow(new UsageError(`${flag}=${value}: ${message}`));
  });
});
