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

describe('--probe.loop-delay-target', () => {
  it('defaults to 10 ms, takes seconds to the millisecond, and 0 keeps --probe.concurrency in flight', () => {
    expect(parseDaemonFlags([]).loopDelayTargetMs).toBe(10);
    expect(parseDaemonFlags(['--probe.loop-delay-target=0.025']).loopDelayTargetMs).toBe(25);
    expect(parseDaemonFlags(['--probe.loop-delay-target=0']).loopDelayTargetMs).toBe(0);
  });

  it.each<[string, string]>([
    ['--probe.loop-delay-target=10ms', '--probe.loop-delay-target=10ms: want a number of seconds, 0 or more (e.g. 0.01)'],
    ['--probe.loop-delay-target=1.5', '--probe.loop-delay-target=1.5: at most 1 second'],
  ])('refuses %s', (flag, message) => {
    expect(() => parseDaemonFlags([flag])).toThrow(new UsageError(message));
  });
});

describe('--probe.batch-window', () => {
  it('defaults to 50 ms, takes seconds to the millisecond, and 0 turns batching off', () => {
    expect(parseDaemonFlags([]).batchWindowMs).toBe(50);
    expect(parseDaemonFlags(['--probe.batch-window=0.2']).batchWindowMs).toBe(200);
    expect(parseDaemonFlags(['--probe.batch-window=0']).batchWindowMs).toBe(0);
  });

  it.each<[string, string]>([
    ['--probe.batch-window=50ms', '--probe.batch-window=50ms: want a number of seconds, 0 or more (e.g. 0.05)'],
    ['--probe.batch-window=2', '--probe.batch-window=2: at most 1 second'],
  ])('refuses %s', (flag, message) => {
    expect(() => parseDaemonFlags([flag])).toThrow(new UsageError(message));
  });
});
