import { setImmediate as nextTurn } from 'node:timers/promises';
import type { ChunkConsumer } from './exposition-body';

/** Where a streamed body goes: one scraper's response. */
export interface BodyDestination {
  /**
   * Sends a chunk on; settles once the chunk may be written over. Never rejects: a destination
   * that went away, or stopped taking chunks, settles at once.
   */
  write(chunk: Buffer): Promise<void>;
  /** The body is complete. */
  end(): void;
  /** The rendering failed, before or after the first chunk. */
  fail(error: unknown): void;
}

interface Wave {
  readonly destinations: BodyDestination[];
  readonly done: Promise<void>;
}

/**
 * A body rendered straight into the responses of every scraper that asks for it uncompressed:
 * nothing of the text is held (30 MB at 10,000 targets), and the chunks it is written into go
 * back to the pool as each is sent, so a scrape leaves no garbage behind. Scrapers that arrive
 * together (HA pairs, federation, a person with curl) share one rendering: each joins the one
 * that has not sent its first chunk yet, or the next, which starts when the current one ends.
 */
export class BodyBroadcast {
  /** The rendering still taking destinations. */
  private gathering: Wave | undefined;
  /** Renderings run one at a time: two at once would slow each other and double the chunks. */
  private last: Promise<void> = Promise.resolve();

  /** `render` writes the body into whatever consumer it is given. */
  constructor(private readonly render: (consume: ChunkConsumer) => Promise<void>) {}

  /** Settles once the destination has had the whole body (or the failure). */
  send(destination: BodyDestination): Promise<void> {
    if (this.gathering !== undefined) {
      this.gathering.destinations.push(destination);
      return this.gathering.done;
    }
    const destinations = [destination];
    // A turn of the event loop first: scrapers whose requests arrived together all join.
    const done = this.last.then(() => nextTurn()).then(() => this.run(destinations));
    this.gathering = { destinations, done };
    this.last = done;
    return done;
  }

  private async run(destinations: readonly BodyDestination[]): Promise<void> {
    const closeGathering = (): void => {
      if (this.gathering?.destinations === destinations) this.gathering = undefined;
    };
    const consume: ChunkConsumer = async (chunk) => {
      // Who joins after this chunk went out would miss it: they wait for the next rendering.
      closeGathering();
      await Promise.all(destinations.map((destination) => destination.write(chunk)));
    };
    try {
      await this.render(consume);
    } catch (error) {
      closeGathering();
      for (const destination of destinations) destination.fail(error);
      return;
    }
    closeGathering();
    for (const destination of destinations) destination.end();
  }
}
