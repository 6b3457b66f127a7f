import { select, type Sample } from './metrics-text';
import { waitFor, type Harness } from './daemon-harness';

/** The first scrape in which `targets` targets have a certexp_probe_success sample: all of them probed once. */
export async function scrapeWhenProbed(harness: Harness | undefined, targets: number): Promise<Sample[]> {
  let samples: Sample[] = [];
  await waitFor(`${targets} targets probed`, async () => {
    if (harness === undefined) throw new Error('the daemon did not start');
    samples = (await harness.scrape()).samples;
    return select(samples, 'certexp_probe_success').length === targets;
  });
  return samples;
}
