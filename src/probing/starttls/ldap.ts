import { converse, quote, type Conversation, type Taken } from '../conversation';
import { upgradeFailure, type Upgrade } from './upgrade';

/** RFC 4511 §4.14.1: the StartTLS extended operation. */
const START_TLS_OID = '1.3.6.1.4.1.1466.20037';
const MESSAGE_ID = 1;

const SEQUENCE = 0x30;
const INTEGER = 0x02;
const ENUMERATED = 0x0a;
const OCTET_STRING = 0x04;
/** [APPLICATION 23] ExtendedRequest and [APPLICATION 24] ExtendedResponse, both constructed. */
const EXTENDED_REQUEST = 0x77;
const EXTENDED_RESPONSE = 0x78;
/** ExtendedRequest.requestName, [0] IMPLICIT LDAPOID. */
const REQUEST_NAME = 0x80;

/** The result codes a StartTLS refusal carries in practice (RFC 4511 §4.14.2, appendix A). */
const RESULT_NAMES: Readonly<Record<number, string>> = {
  1: 'operationsError',
  2: 'protocolError',
  51: 'busy',
  52: 'unavailable',
  53: 'unwillingToPerform',
};

interface Tlv {
  readonly tag: number;
  readonly value: Buffer;
  /** Bytes of tag, length and value together. */
  readonly size: number;
}

function encode(tag: number, value: Buffer): Buffer {
  // Every element we send is shorter than 128 bytes: the short length form is enough.
  return Buffer.concat([Buffer.from([tag, value.length]), value]);
}

function startTlsRequest(): Buffer {
  const operation = encode(EXTENDED_REQUEST, encode(REQUEST_NAME, Buffer.from(START_TLS_OID, 'latin1')));
  return encode(SEQUENCE, Buffer.concat([encode(INTEGER, Buffer.from([MESSAGE_ID])), operation]));
}

/**
 * One BER element at `offset` (definite lengths and one-byte tags only, as LDAP uses): the
 * element, 'short' when more bytes are needed, or 'malformed'.
 */
function readTlv(buffer: Buffer, offset: number): Tlv | 'short' | 'malformed' {
  const tag = buffer[offset];
  const first = buffer[offset + 1];
  if (tag === undefined || first === undefined) return 'short';
  if ((tag & 0x1f) === 0x1f || first === 0x80 || first > 0x84) return 'malformed';
  let length = first;
  let header = 2;
  if (first > 0x80) {
    const octets = first - 0x80;
    if (buffer.length < offset + 2 + octets) return 'short';
    length = buffer.readUIntBE(offset + 2, octets);
    header += octets;
  }
  const end = offset + header + length;
  if (buffer.length < end) return 'short';
  return { tag, value: buffer.subarray(offset + header, end), size: header + length };
}

/** The elements of a constructed value, in order; undefined when they do not parse. */
function children(value: Buffer): Tlv[] | undefined {
  const parts: Tlv[] = [];
  for (let offset = 0; offset < value.length;) {
    const part = readTlv(value, offset);
    if (typeof part === 'string') return undefined;
    parts.push(part);
    offset += part.size;
  }
  return parts;
}

function integer(tlv: Tlv | undefined, tag: number): number | undefined {
  if (tlv?.tag !== tag || tlv.value.length === 0 || tlv.value.length > 4) return undefined;
  return tlv.value.readIntBE(0, tlv.value.length);
}

interface ExtendedResponse {
  readonly messageId: number;
  readonly resultCode: number;
  readonly diagnostic: string;
}

function takeResponse(c: Conversation, buffered: Buffer): Taken<ExtendedResponse> | undefined {
  // A server of another protocol is told apart at its first byte, not after its idea of a length.
  const message = buffered.length > 0 && buffered[0] !== SEQUENCE ? 'malformed' : readTlv(buffered, 0);
  if (message === 'short') return undefined;
  const parts = message === 'malformed' ? undefined : children(message.value);
  const messageId = integer(parts?.[0], INTEGER);
  const operation = parts?.[1];
  const fields = operation?.tag === EXTENDED_RESPONSE ? children(operation.value) : undefined;
  const resultCode = integer(fields?.[0], ENUMERATED);
  if (message === 'malformed' || messageId === undefined || fields === undefined || resultCode === undefined) {
    throw c.fail(`the answer to StartTLS is not an LDAP ExtendedResponse (${quote(buffered.subarray(0, 16).toString('hex'))}...): is this port LDAP?`);
  }
  const diagnostic = fields[2]?.tag === OCTET_STRING ? fields[2].value.toString('utf8') : '';
  return { value: { messageId, resultCode, diagnostic }, length: message.size };
}

/** RFC 4511 §4.14 and RFC 4513 §3: the StartTLS ExtendedRequest, answered with resultCode success (0). */
export const ldap: Upgrade = (socket, _serverName, signal) => converse(socket, signal, upgradeFailure('ldap'), async (c) => {
  c.send(startTlsRequest());
  const response = await c.read('the StartTLS response', (buffered) => takeResponse(c, buffered));
  // Message ID 0 is an unsolicited notification, such as a notice of disconnection.
  if (response.messageId !== MESSAGE_ID) {
    throw c.fail(`the server answered message ${response.messageId} instead of our StartTLS request: ${quote(response.diagnostic)}`);
  }
  if (response.resultCode !== 0) {
    const name = RESULT_NAMES[response.resultCode] ?? 'error';
    throw c.fail(`the server refused StartTLS with resultCode ${response.resultCode} (${name}): ${quote(response.diagnostic)}`);
  }
});
