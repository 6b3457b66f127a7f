/**
 * One rendering for every scraper that asks together, written through the real chunk writer:
 * who joins before the first chunk shares it, who comes later gets the next one, a failure
 * reaches only its own scrapers, and a slow scraper holds the chunk it has until it is done.
 */
import { BodyBroadcast, type BodyDestination } from '../../src/metrics/body-broadcast';
import { writeBody, type ChunkConsumer } from '../../src/metrics/exposition-body';

/** About 12 MB: three chunks of the writer. */
const LINES = Array.from({ length: 300_000 }, (_, i) => `certexp_probes_total{target="t${i}.example.org"} ${i}\n`);
const EXPECTED = LINES.join('');

interface Collected extends BodyDestination {
  readonly text: () => string;
  readonly outcome: () => 'open' | 'ended' | 'failed';
}

/** Whether a body is the whole expected text; a failing toBe on 12 MB strings would diff for minutes. */
function isExpected(text: string): boolean {
  return text === EXPECTED;
}

/** The destination was ended with the whole body. */
function expectWhole(destination: Collected): void {
  expect(destination.outcome()).toBe('ended');
  expect(isExpected(destination.text())).toBe(true);
}

/** Keeps a copy of each chunk, taken after `delayMs`: a chunk written over meanwhile would show. */
function collector(delayMs = 0): Collected {
  const chunks: Buffer[] = [];
  let outcome: 'open' | 'ended' | 'failed' = 'open';
  return {
    write: async (chunk) => {
      if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
      chunks.push(Buffer.from(chunk));
    },
    end: () => { outcome = 'ended'; },
    fail: () => { outcome = 'failed'; },
    text: () => Buffer.concat(chunks).toString('utf8'),
    outcome: () => outcome,
  };
}

/** A broadcast over the real writer that logs when each rendering starts, sends its first chunk and ends. */
function broadcastOf(events: string[], fail?: (rendering: number) => boolean): BodyBroadcast {
  let renderings = 0;
  return new BodyBroadcast(async (consume: ChunkConsumer) => {
    const rendering = ++renderings;
    events.push(`start ${rendering}`);
    let first = true;
    function* parts(): Generator<string> {
      yield* LINES.slice(0, 100_000);
      if (fail?.(rendering) === true) throw new Error(`rendering ${rendering} broke`);
      yield* LINES.slice(100_000);
    }
    await writeBody(parts(), async (chunk) => {
      if (first) events.push(`first chunk ${rendering}`);
      first = false;
      await consume(chunk);
    });
    events.push(`end ${rendering}`);
  });
}

describe('BodyBroadcast', () => {
  it('renders once for every destination that joins before the first chunk goes out', async () => {
    const events: string[] = [];
    const broadcast = broadcastOf(events);
    const destinations = Array.from({ length: 5 }, () => collector());
    await Promise.all(destinations.map((d) => broadcast.send(d)));
    expect(events).toEqual(['start 1', 'first chunk 1', 'end 1']);
    for (const d of destinations) expectWhole(d);
  });

  it('gives a destination that arrives after the first chunk the next rendering, once the current one has ended', async () => {
    const events: string[] = [];
    const broadcast = broadcastOf(events);
    const early = collector();
    const late = collector();
    let joined = false;
    const lateOne = new Promise<void>((resolve, reject) => {
      const first = broadcast.send({
        ...early,
        write: async (chunk) => {
          await early.write(chunk);
          // Joins while the first rendering is under way, past its first chunk.
          if (events.length === 2 && !joined) { joined = true; resolve(broadcast.send(late)); }
        },
      });
      first.catch(reject);
    });
    await lateOne;
    expect(events).toEqual(['start 1', 'first chunk 1', 'end 1', 'start 2', 'first chunk 2', 'end 2']);
    expectWhole(early);
    expectWhole(late);
  });

  it('fails the destinations of a rendering that breaks, and renders afresh for the next', async () => {
    const events: string[] = [];
    const broadcast = broadcastOf(events, (rendering) => rendering === 1);
    const broken = [collector(), collector()];
    await Promise.all(broken.map((d) => broadcast.send(d)));
    for (const d of broken) expect(d.outcome()).toBe('failed');
    const after = collector();
    await broadcast.send(after);
    expectWhole(after);
  });

  it('writes over no chunk a slow destination still holds, and finishes when the slowest has had the body', async () => {
    const events: string[] = [];
    const broadcast = broadcastOf(events);
    const fast = collector();
    const slow = collector(30);
    await Promise.all([broadcast.send(fast), broadcast.send(slow)]);
    expectWhole(slow);
    expectWhole(fast);
  });
});
