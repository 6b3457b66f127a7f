import { converse } from '../conversation';
import { expectReply } from './numeric-reply';
import { upgradeFailure, type Upgrade } from './upgrade';

/** RFC 4217 §4: greeting 220, AUTH TLS answered 234. */
export const ftp: Upgrade = (socket, _serverName, signal) => converse(socket, signal, upgradeFailure('ftp'), async (c) => {
  await expectReply(c, 220, 'the greeting');
  c.send('AUTH TLS\r\n');
  await expectReply(c, 234, 'the AUTH TLS reply');
});
