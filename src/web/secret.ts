import { inspect } from 'node:util';

const HIDDEN = '[secret]';

/**
 * A value that must never reach a log line: the TLS private key, the bcrypt hashes. Logging the
 * object that holds one (pino's JSON, util.inspect, a template string) prints a placeholder;
 * only reveal() gives the value, at the one place that hands it to TLS or bcrypt.
 */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  reveal(): string {
    return this.#value;
  }

  toJSON(): string {
    return HIDDEN;
  }

  toString(): string {
    return HIDDEN;
  }

  [inspect.custom](): string {
    return HIDDEN;
  }
}
