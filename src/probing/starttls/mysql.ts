import { converse, quote, type Conversation, type Taken } from '../conversation';
import { upgradeFailure, type Upgrade } from './upgrade';

/** Capability flags (MySQL client/server protocol, "Capabilities Flags"). */
const CLIENT_LONG_PASSWORD = 0x0001;
const CLIENT_PROTOCOL_41 = 0x0200;
const CLIENT_SSL = 0x0800;
const CLIENT_SECURE_CONNECTION = 0x8000;
const HANDSHAKE_V10 = 0x0a;
const ERROR_PACKET = 0xff;
const MAX_PACKET_SIZE = 16 * 1024 * 1024;
/** utf8mb3_general_ci; the handshake only needs some valid collation. */
const CHARSET = 0x21;

interface Packet {
  readonly sequence: number;
  readonly payload: Buffer;
}

function takePacket(buffered: Buffer): Taken<Packet> | undefined {
  if (buffered.length < 4) return undefined;
  const length = buffered.readUIntLE(0, 3);
  if (buffered.length < 4 + length) return undefined;
  return { value: { sequence: buffered[3] ?? 0, payload: buffered.subarray(4, 4 + length) }, length: 4 + length };
}

/** The server's capability flags from a protocol 10 handshake; fails on an error packet or another protocol. */
function serverCapabilities(c: Conversation, payload: Buffer): number {
  if (payload[0] === ERROR_PACKET) {
    // 0xff, error code (2 bytes), then the message (after "#" and a 5-character SQL state on 4.1+).
    const message = payload.subarray(3).toString('utf8').replace(/^#\w{5}/, '');
    throw c.fail(`the server refused the connection with error ${payload.length >= 3 ? payload.readUInt16LE(1) : '?'}: ${quote(message)}`);
  }
  if (payload[0] !== HANDSHAKE_V10) throw c.fail(`expected a protocol 10 handshake, got ${quote(payload.subarray(0, 16).toString('hex'))}: is this port MySQL?`);
  // Version string (NUL-terminated), connection id (4), auth data part 1 (8), filler (1), capabilities (low 2 bytes).
  const versionEnd = payload.indexOf(0, 1);
  const at = versionEnd + 1 + 4 + 8 + 1;
  if (versionEnd < 0 || payload.length < at + 2) throw c.fail('the server handshake is truncated');
  return payload.readUInt16LE(at);
}

function sslRequest(sequence: number): Buffer {
  const payload = Buffer.alloc(32);
  payload.writeUInt32LE(CLIENT_LONG_PASSWORD | CLIENT_PROTOCOL_41 | CLIENT_SSL | CLIENT_SECURE_CONNECTION, 0);
  payload.writeUInt32LE(MAX_PACKET_SIZE, 4);
  payload[8] = CHARSET;
  // 23 bytes of filler stay zero.
  const header = Buffer.from([payload.length, 0, 0, sequence & 0xff]);
  return Buffer.concat([header, payload]);
}

/** The server speaks first: a handshake with CLIENT_SSL, answered by our SSLRequest packet, then TLS at once. */
export const mysql: Upgrade = (socket, _serverName, signal) => converse(socket, signal, upgradeFailure('mysql'), async (c) => {
  const handshake = await c.read('the server handshake', takePacket);
  if ((serverCapabilities(c, handshake.payload) & CLIENT_SSL) === 0) {
    throw c.fail('the server does not offer TLS (no CLIENT_SSL in its handshake): check require_secure_transport and ssl settings');
  }
  c.send(sslRequest(handshake.sequence + 1));
});
