import { hostname } from 'node:os';
import { converse } from '../conversation';
import { expectReply } from './numeric-reply';
import { upgradeFailure, type Upgrade } from './upgrade';

/** EHLO names the client (RFC 5321 §4.1.1.1); a host name that is not a domain falls back to an address literal. */
function clientName(): string {
  const name = hostname();
  return /^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/.test(name) ? name : '[127.0.0.1]';
}

/** RFC 3207: greeting 220, EHLO listing STARTTLS, STARTTLS answered 220. */
export const smtp: Upgrade = (socket, _serverName, signal) => converse(socket, signal, upgradeFailure('smtp'), async (c) => {
  await expectReply(c, 220, 'the greeting');
  c.send(`EHLO ${clientName()}\r\n`);
  const ehlo = await expectReply(c, 250, 'the EHLO reply');
  if (!ehlo.lines.slice(1).some((line) => /^STARTTLS\b/i.test(line))) throw c.fail('the server does not offer STARTTLS in its EHLO reply');
  c.send('STARTTLS\r\n');
  await expectReply(c, 220, 'the STARTTLS reply');
});
