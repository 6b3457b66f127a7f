/**
 * HTTP basic auth against bcrypt hashes, as exporter-toolkit does it: bcrypt is slow on purpose,
 * so a password that verified is remembered (scrapes every few seconds would otherwise burn a
 * core), compares run one at a time, and an unknown user costs as much as a known one so the
 * answer time does not tell which user names exist.
 */
import { createHmac, randomBytes } from 'node:crypto';
import * as bcrypt from 'bcryptjs';
import type { Secret } from './secret';

export type PasswordCompare = (password: string, hash: string) => Promise<boolean>;

/** ok: let the request through; denied: 401; busy: too many compares queued, 503. */
export type AuthVerdict = 'ok' | 'denied' | 'busy';

export interface BasicAuthOptions {
  /** bcryptjs by default; tests count calls through this. */
  readonly compare?: PasswordCompare;
  /** Verified logins remembered; default 256, so memory stays bounded whoever logs in. */
  readonly cacheSize?: number;
  /** Compares waiting their turn before further requests are turned away; default 64. */
  readonly maxWaiting?: number;
}

export interface Credentials {
  readonly user: string;
  readonly password: string;
}

const BASIC = /^basic +([A-Za-z0-9+/]*={0,2}) *$/i;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** User and password from an Authorization header, or undefined for anything but well-formed Basic credentials. */
export function parseBasicAuthorization(header: string | undefined): Credentials | undefined {
  const encoded = header === undefined ? undefined : BASIC.exec(header)?.[1];
  if (encoded === undefined) return undefined;
  let text: string;
  try {
    // Fatal decoding: two different invalid byte strings must not both turn into U+FFFD and match.
    text = utf8.decode(Buffer.from(encoded, 'base64'));
  } catch {
    return undefined;
  }
  const colon = text.indexOf(':');
  return colon < 0 ? undefined : { user: text.slice(0, colon), password: text.slice(colon + 1) };
}

function cost(hash: string): number {
  return Number(hash.slice(4, 6));
}

export class BasicAuthenticator {
  private readonly compare: PasswordCompare;
  private readonly cacheSize: number;
  private readonly maxWaiting: number;
  /** HMAC keys of verified (user, hash, password): nothing in memory is a password or a fast oracle for one. */
  private readonly verified = new Set<string>();
  private readonly cacheKey = randomBytes(32);
  /** Compared against for unknown users: the costliest configured hash, so a miss takes as long as a hit. */
  private readonly decoy: string;
  private queue: Promise<unknown> = Promise.resolve();
  private waiting = 0;

  constructor(
    private readonly users: ReadonlyMap<string, Secret>,
    options: BasicAuthOptions = {},
  ) {
    if (users.size === 0) throw new Error('BasicAuthenticator needs at least one user');
    this.compare = options.compare ?? ((password, hash) => bcrypt.compare(password, hash));
    this.cacheSize = options.cacheSize ?? 256;
    this.maxWaiting = options.maxWaiting ?? 64;
    const hashes = [...users.values()].map((secret) => secret.reveal());
    this.decoy = hashes.reduce((costliest, hash) => (cost(hash) > cost(costliest) ? hash : costliest));
  }

  async check(authorization: string | undefined): Promise<AuthVerdict> {
    const credentials = parseBasicAuthorization(authorization);
    if (credentials === undefined) return 'denied';
    const stored = this.users.get(credentials.user)?.reveal();
    const hash = stored ?? this.decoy;
    // The hash is part of the key, so a changed hash never lets the old password through.
    const key = createHmac('sha256', this.cacheKey).update(JSON.stringify([credentials.user, hash, credentials.password])).digest('base64');
    if (stored !== undefined && this.verified.has(key)) {
      // Oldest-first eviction: re-inserting keeps the logins in use at the young end.
      this.verified.delete(key);
      this.verified.add(key);
      return 'ok';
    }
    if (this.waiting >= this.maxWaiting) return 'busy';
    const matches = await this.oneAtATime(() => this.compare(credentials.password, hash).catch(() => false));
    if (stored === undefined || !matches) return 'denied';
    this.remember(key);
    return 'ok';
  }

  private remember(key: string): void {
    this.verified.add(key);
    for (const oldest of this.verified) {
      if (this.verified.size <= this.cacheSize) break;
      this.verified.delete(oldest);
    }
  }

  /** bcrypt is CPU-bound: running compares side by side only makes each one slower. */
  private oneAtATime<T>(task: () => Promise<T>): Promise<T> {
    this.waiting += 1;
    const run = this.queue.then(task);
    this.queue = run.catch(() => undefined);
    return run.finally(() => {
      this.waiting -= 1;
    });
  }
}
