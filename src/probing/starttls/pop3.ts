import { converse, quote } from '../conversation';
import { upgradeFailure, type Upgrade } from './upgrade';

/** RFC 2595 §4: greeting +OK, STLS answered +OK. */
export const pop3: Upgrade = (socket, _serverName, signal) => converse(socket, signal, upgradeFailure('pop3'), async (c) => {
  const expectOk = async (what: string): Promise<void> => {
    const line = await c.line(what);
    if (!/^\+OK\b/.test(line)) throw c.fail(`expected +OK as ${what}, got ${quote(line)}`);
  };
  await expectOk('the greeting');
  c.send('STLS\r\n');
  await expectOk('the STLS reply');
});
