import type { Socket } from 'node:net';
import { ProbeError, type ProbeFailureReason } from './probe-failure';

/** More than any greeting or capability list; a server that sends more is not the protocol we asked for. */
const MAX_BUFFERED = 64 * 1024;
/** How much of a server's words an error message quotes. */
const QUOTE_LENGTH = 120;

/** A complete unit found at the start of what the server sent: its value and how many bytes it took. */
export interface Taken<T> {
  readonly value: T;
  readonly length: number;
}

/** Server text for a message: printable, quoted, and short, whatever the server sent. */
export function quote(text: string): string {
  const printable = text.replace(/[^\x20-\x7e]/g, '?');
  return JSON.stringify(printable.length > QUOTE_LENGTH ? `${printable.slice(0, QUOTE_LENGTH)}...` : printable);
}

/**
 * The plain-text exchange before TLS on one socket (a STARTTLS upgrade, an HTTP CONNECT): buffers
 * what the server sends, hands out complete units (lines, packets, XML elements) as the protocol
 * defines them, and gives the socket back untouched for TLS. Every wait ends on data, close,
 * error or `signal`; every failure is a ProbeError with `reason`, its message led by `prefix`.
 */
export class Conversation {
  private buffered: Buffer = Buffer.alloc(0);
  private ended: ProbeError | undefined;
  private wake: (() => void) | undefined;

  constructor(
    private readonly socket: Socket,
    private readonly signal: AbortSignal,
    private readonly reason: ProbeFailureReason,
    private readonly prefix: string,
  ) {
    socket.on('data', this.onData);
    socket.on('end', this.onEnd);
    socket.on('close', this.onEnd);
    socket.on('error', this.onError);
    signal.addEventListener('abort', this.onAbort, { once: true });
    if (signal.aborted) this.onAbort();
    // A socket an earlier exchange paused (a proxy tunnel) stays paused for a new 'data' listener.
    socket.resume();
  }

  /** A ProbeError for this exchange, to throw where the server said something we cannot go on from. */
  fail(detail: string): ProbeError {
    return new ProbeError(this.reason, `${this.prefix}: ${detail}`);
  }

  send(data: string | Buffer): void {
    this.socket.write(data);
  }

  /**
   * Waits until `take` finds a complete unit at the start of the buffer; `what` names it in the
   * error when the server closes, stalls or floods us first.
   */
  async read<T>(what: string, take: (buffered: Buffer) => Taken<T> | undefined): Promise<T> {
    for (;;) {
      const found = take(this.buffered);
      if (found !== undefined) {
        this.buffered = this.buffered.subarray(found.length);
        return found.value;
      }
      if (this.ended !== undefined) throw this.withWhat(this.ended, what);
      if (this.buffered.length > MAX_BUFFERED) throw this.fail(`more than ${MAX_BUFFERED} bytes without ${what}`);
      await new Promise<void>((resolve) => { this.wake = resolve; });
    }
  }

  /** One line without its CR LF (a bare LF is accepted, as servers send it). */
  line(what: string): Promise<string> {
    return this.read(what, (buffered) => {
      const end = buffered.indexOf(0x0a);
      if (end < 0) return undefined;
      const text = buffered.subarray(0, end).toString('utf8');
      return { value: text.endsWith('\r') ? text.slice(0, -1) : text, length: end + 1 };
    });
  }

  /** Leaves the socket: to what comes next when the exchange `succeeded`, else just stops listening. */
  end(succeeded: boolean, leftover: Leftover): void {
    if (succeeded) this.finish(leftover);
    else this.detach();
  }

  /**
   * Leaves the socket, paused, to what comes next. Bytes the server sent after its go-ahead are
   * refused, or handed back to the socket for the next reader (a server behind a proxy tunnel
   * may speak first).
   */
  private finish(leftover: Leftover): void {
    this.detach();
    this.socket.pause();
    if (this.buffered.length === 0) return;
    if (leftover === 'refuse') throw this.fail(`the server sent ${this.buffered.length} bytes after its go-ahead, before the TLS handshake`);
    this.socket.unshift(this.buffered);
  }

  /** Stops listening without checking anything; for the error path. */
  private detach(): void {
    this.ended ??= this.fail('the exchange was abandoned');
    this.socket.off('data', this.onData);
    this.socket.off('end', this.onEnd);
    this.socket.off('close', this.onEnd);
    this.socket.off('error', this.onError);
    this.signal.removeEventListener('abort', this.onAbort);
    this.notify();
  }

  private withWhat(ended: ProbeError, what: string): ProbeError {
    return new ProbeError(ended.reason, `${ended.message} while waiting for ${what}`, { cause: ended.cause });
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  private readonly onData = (chunk: Buffer): void => {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    this.notify();
  };

  private readonly onEnd = (): void => {
    this.ended ??= this.fail('the server closed the connection');
    this.notify();
  };

  private readonly onError = (error: Error): void => {
    this.ended ??= new ProbeError(this.reason, `${this.prefix}: ${error.message}`, { cause: error });
    this.notify();
  };

  private readonly onAbort = (): void => {
    this.ended ??= new ProbeError(this.reason, `${this.prefix}: timed out`, { cause: this.signal.reason });
    this.notify();
  };
}

/**
 * What to do with bytes the server sent after its go-ahead. Before TLS, refuse them: they would
 * be read as TLS from an attacker's position (the STARTTLS command injection of CVE-2011-0411).
 * After a proxy's tunnel opens, keep them: they are the target's, whose greeting may come first.
 */
export type Leftover = 'refuse' | 'keep';

/**
 * Runs one protocol's exchange on `socket`; on success the socket is left paused with nothing
 * read past the go-ahead (or that much handed back, with `leftover` keep); on failure every
 * listener is gone and the error says why.
 */
export async function converse(
  socket: Socket,
  signal: AbortSignal,
  failure: { readonly reason: ProbeFailureReason; readonly prefix: string; readonly leftover?: Leftover },
  exchange: (conversation: Conversation) => Promise<void>,
): Promise<void> {
  const conversation = new Conversation(socket, signal, failure.reason, failure.prefix);
  try {
    await exchange(conversation);
  } catch (error) {
    conversation.end(false, 'refuse');
    throw error;
  }
  conversation.end(true, failure.leftover ?? 'refuse');
}
