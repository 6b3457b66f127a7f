import { converse, quote } from '../conversation';
import { upgradeFailure, type Upgrade } from './upgrade';

const TAG = 'a001';
const TAGGED_OK = new RegExp(`^${TAG} OK\\b`, 'i');
/** Untagged lines (capabilities, alerts) a server may send before answering the command. */
const MAX_UNTAGGED = 100;

/** RFC 3501 §6.2.1 and RFC 9051: greeting "* OK", then "a001 STARTTLS" answered "a001 OK". */
export const imap: Upgrade = (socket, _serverName, signal) => converse(socket, signal, upgradeFailure('imap'), async (c) => {
  const greeting = await c.line('the greeting');
  // PREAUTH means already authenticated, where STARTTLS is not allowed; BYE means go away.
  if (!/^\* OK\b/i.test(greeting)) throw c.fail(`expected "* OK" as the greeting, got ${quote(greeting)}`);
  c.send(`${TAG} STARTTLS\r\n`);
  for (let untagged = 0; untagged <= MAX_UNTAGGED; untagged++) {
    const line = await c.line('the STARTTLS reply');
    if (line.startsWith('* ')) continue;
    if (TAGGED_OK.test(line)) return;
    throw c.fail(`expected "${TAG} OK" as the STARTTLS reply, got ${quote(line)}`);
  }
  throw c.fail(`more than ${MAX_UNTAGGED} untagged lines before the STARTTLS reply`);
});
