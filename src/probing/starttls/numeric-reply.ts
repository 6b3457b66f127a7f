import { quote, type Conversation } from '../conversation';

/** Continuation lines a reply may have; an EHLO reply lists a dozen extensions at most. */
const MAX_REPLY_LINES = 200;

export interface NumericReply {
  readonly code: number;
  /** The text of each line, code and separator removed. */
  readonly lines: readonly string[];
}

/**
 * One SMTP (RFC 5321 §4.2.1) or FTP (RFC 959 §4.2) reply: "250-first", ..., "250 last". FTP
 * lets lines between the first and the last carry no code, so the last line is the first one
 * after "NNN-" that starts with the same code and a space.
 */
export async function readReply(conversation: Conversation, what: string): Promise<NumericReply> {
  const first = await conversation.line(what);
  const match = /^(\d{3})(?:([ -])(.*))?$/.exec(first);
  if (match === null) throw conversation.fail(`expected a numeric reply as ${what}, got ${quote(first)}`);
  const code = match[1] ?? '';
  const lines = [match[3] ?? ''];
  if (match[2] !== '-') return { code: Number(code), lines };
  while (lines.length < MAX_REPLY_LINES) {
    const line = await conversation.line(what);
    const last = line === code || line.startsWith(`${code} `);
    lines.push(line.startsWith(`${code}-`) || last ? line.slice(4) : line);
    if (last) return { code: Number(code), lines };
  }
  throw conversation.fail(`${what} ran past ${MAX_REPLY_LINES} lines`);
}

/** The reply, when its code is `code`; else the error that quotes what the server said instead. */
export async function expectReply(conversation: Conversation, code: number, what: string): Promise<NumericReply> {
  const reply = await readReply(conversation, what);
  if (reply.code !== code) throw conversation.fail(`expected ${code} as ${what}, got ${quote(`${reply.code} ${reply.lines.join(' / ')}`)}`);
  return reply;
}
