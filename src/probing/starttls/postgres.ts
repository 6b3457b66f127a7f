import { converse, quote } from '../conversation';
import { upgradeFailure, type Upgrade } from './upgrade';

/** Int32 length 8, then the SSLRequest code 1234 5679 (PostgreSQL protocol, "SSL Session Encryption"). */
const SSL_REQUEST = Buffer.from('0000000804d2162f', 'hex');

/** The client speaks first: SSLRequest, answered with the one byte 'S' (go ahead) or 'N' (no TLS here). */
export const postgres: Upgrade = (socket, _serverName, signal) => converse(socket, signal, upgradeFailure('postgres'), async (c) => {
  c.send(SSL_REQUEST);
  const answer = await c.read('the SSLRequest answer', (buffered) => (buffered.length === 0 ? undefined : { value: buffered.subarray(0, 1).toString('latin1'), length: 1 }));
  if (answer === 'S') return;
  if (answer === 'N') throw c.fail('the server does not accept TLS (it answered N to SSLRequest): check ssl = on in postgresql.conf');
  // 'E' is an ErrorResponse from a server too old for SSLRequest; anything else is not PostgreSQL.
  throw c.fail(`expected S or N as the SSLRequest answer, got ${quote(answer)}`);
});
