/**
 * Loopback servers that speak a protocol's plain-text greeting and STARTTLS upgrade, then hand
 * the socket to a TLS server socket. Each is a script of what the server says and what it
 * expects to hear, written from the protocol's specification and independent of the prober's
 * code, so the two cannot share a misreading. Scripts that go wrong on purpose (no STARTTLS
 * offered, a refusal, bytes injected after the go-ahead) exercise the prober's failure paths.
 */
import type { Socket } from 'node:net';
import { createSecureContext, TLSSocket } from 'node:tls';
import * as asn1js from 'asn1js';
import type { KeyPair, TestCert } from './pki';
import { startRawServer, type LoopbackHost, type TlsTestServer } from './tls-server';

export type StarttlsName = 'smtp' | 'imap' | 'pop3' | 'ftp' | 'ldap' | 'xmpp' | 'postgres' | 'mysql';

/** One complete client message at the start of `buffered`: its length, or undefined while incomplete. */
type Framing = (buffered: Buffer) => number | undefined;

export type Step =
  /** The server writes this; a function gets the last message heard (to echo an IMAP tag). */
  | { readonly say: string | Buffer | ((heard: Buffer) => string | Buffer) }
  /** The server waits for one message framed by `frame`; `accept` false makes it hang up. */
  | { readonly hear: string; readonly frame: Framing; readonly accept: (message: Buffer) => boolean };

export interface Script {
  readonly steps: readonly Step[];
  /** After the last step: TLS, hang up, or keep the connection open and say nothing. */
  readonly then: 'tls' | 'close' | 'hang';
}

export interface StarttlsTestServer extends TlsTestServer {
  /** Every message heard from clients, in order. */
  readonly heard: Buffer[];
  /** What clients sent that the script did not accept. */
  readonly complaints: string[];
  /** TLS handshakes completed after an upgrade. */
  handshakes(): number;
}

export interface StarttlsServerOptions {
  readonly script: Script;
  /** The private key matching chain[0]. */
  readonly key: KeyPair;
  readonly chain: readonly TestCert[];
  readonly host?: LoopbackHost;
}

/** How long a script waits for a client message before giving up on the connection. */
const HEAR_LIMIT_MS = 5000;

export const say = (text: string | Buffer | ((heard: Buffer) => string | Buffer)): Step => ({ say: text });

/** A line ending in LF whose text (CR LF removed) matches `pattern`. */
export function hearLine(pattern: RegExp): Step {
  return {
    hear: String(pattern),
    frame: (buffered) => { const end = buffered.indexOf(0x0a); return end < 0 ? undefined : end + 1; },
    accept: (message) => pattern.test(message.toString('utf8').replace(/\r?\n$/, '')),
  };
}

/** Exactly `length` bytes, checked by `accept`. */
export function hearBytes(what: string, length: number, accept: (message: Buffer) => boolean): Step {
  return { hear: what, frame: (buffered) => (buffered.length >= length ? length : undefined), accept };
}

/** Text up to and including the first match of `pattern`. */
export function hearUntil(pattern: RegExp): Step {
  return {
    hear: String(pattern),
    frame: (buffered) => {
      const match = pattern.exec(buffered.toString('latin1'));
      return match === null ? undefined : match.index + match[0].length;
    },
    accept: () => true,
  };
}

/** Runs `script` on one accepted socket. */
function converse(socket: Socket, options: StarttlsServerOptions, server: { heard: Buffer[]; complaints: string[]; onHandshake: () => void }): void {
  let buffered: Buffer = Buffer.alloc(0);
  let wake: (() => void) | undefined;
  const onData = (chunk: Buffer): void => { buffered = Buffer.concat([buffered, chunk]); wake?.(); };
  socket.on('data', onData);
  socket.once('close', () => wake?.());

  const hear = async (step: Extract<Step, { hear: string }>): Promise<Buffer | undefined> => {
    const deadline = Date.now() + HEAR_LIMIT_MS;
    for (;;) {
      const length = step.frame(buffered);
      if (length !== undefined) {
        const message = buffered.subarray(0, length);
        buffered = buffered.subarray(length);
        return message;
      }
      if (socket.destroyed || Date.now() > deadline) return undefined;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 100);
        wake = () => { clearTimeout(timer); resolve(); };
      });
    }
  };

  const run = async (): Promise<void> => {
    let last: Buffer = Buffer.alloc(0);
    for (const step of options.script.steps) {
      if ('say' in step) {
        socket.write(typeof step.say === 'function' ? step.say(last) : step.say);
        continue;
      }
      const message = await hear(step);
      if (message === undefined) { socket.destroy(); return; }
      server.heard.push(message);
      if (!step.accept(message)) {
        server.complaints.push(`expected ${step.hear}, heard ${JSON.stringify(message.toString('latin1'))}`);
        socket.destroy();
        return;
      }
      last = message;
    }
    if (options.script.then === 'close') { socket.end(); return; }
    if (options.script.then === 'hang') return;
    socket.off('data', onData);
    socket.pause();
    // A client may send its ClientHello right behind its last plain-text message (MySQL does).
    if (buffered.length > 0) socket.unshift(buffered);
    const context = createSecureContext({ key: options.key.privateKeyPem, cert: options.chain.map((c) => c.pem).join('') });
    const tls = new TLSSocket(socket, { isServer: true, secureContext: context });
    tls.on('error', () => undefined);
    tls.once('secure', () => { server.onHandshake(); tls.end(); });
    tls.resume();
  };
  void run();
}

/** A loopback server that plays `script` to every client. */
export async function startStarttlsServer(options: StarttlsServerOptions): Promise<StarttlsTestServer> {
  const heard: Buffer[] = [];
  const complaints: string[] = [];
  let handshakes = 0;
  const state = { heard, complaints, onHandshake: () => { handshakes++; } };
  const server = await startRawServer(options.host ?? '127.0.0.1', (socket) => { converse(socket, options, state); });
  return { ...server, heard, complaints, handshakes: () => handshakes };
}

// ---- The protocols, as their specifications describe the exchange -------------------------

const LDAP_START_TLS_OID = '1.3.6.1.4.1.1466.20037';

/** A whole BER element with a definite length (short or long form). */
const berElement: Framing = (buffered) => {
  const first = buffered[1];
  if (first === undefined) return undefined;
  const octets = first & 0x80 ? first & 0x7f : 0;
  if (buffered.length < 2 + octets) return undefined;
  const length = octets === 0 ? first : buffered.readUIntBE(2, octets);
  return buffered.length >= 2 + octets + length ? 2 + octets + length : undefined;
};

/** Whether `message` is an LDAPMessage carrying an ExtendedRequest for StartTLS, decoded with asn1js. */
function isLdapStartTls(message: Buffer): boolean {
  const decoded = asn1js.fromBER(new Uint8Array(message));
  if (decoded.offset === -1 || !(decoded.result instanceof asn1js.Sequence)) return false;
  const [id, operation] = decoded.result.valueBlock.value;
  if (!(id instanceof asn1js.Integer) || !(operation instanceof asn1js.Constructed)) return false;
  const { tagClass, tagNumber } = operation.idBlock;
  const name = operation.valueBlock.value[0];
  if (tagClass !== 2 || tagNumber !== 23 || !(name instanceof asn1js.Primitive)) return false;
  return Buffer.from(name.valueBlock.valueHexView).toString('latin1') === LDAP_START_TLS_OID;
}

/** An LDAPMessage with an ExtendedResponse: message ID, resultCode, and a diagnostic message. */
export function ldapExtendedResponse(messageId: number, resultCode: number, diagnostic = ''): Buffer {
  const response = new asn1js.Sequence({
    value: [
      new asn1js.Integer({ value: messageId }),
      new asn1js.Constructed({
        idBlock: { tagClass: 2, tagNumber: 24 },
        value: [new asn1js.Enumerated({ value: resultCode }), new asn1js.OctetString(), new asn1js.OctetString({ valueHex: new TextEncoder().encode(diagnostic) })],
      }),
    ],
  });
  return Buffer.from(response.toBER());
}

const MYSQL_CLIENT_SSL = 0x0800;

/** A MySQL protocol 10 server handshake packet (sequence 0) with these lower capability flags. */
export function mysqlHandshake(capabilities: number): Buffer {
  const payload = Buffer.concat([
    Buffer.from([0x0a]),
    Buffer.from('8.0.36-certexp-test\0', 'latin1'),
    Buffer.from([7, 0, 0, 0]), // connection id
    Buffer.from('abcdefgh', 'latin1'), // auth plugin data, part 1
    Buffer.from([0]),
    Buffer.from([capabilities & 0xff, (capabilities >> 8) & 0xff]),
    Buffer.from([0xff, 0x02, 0x00, 0xff, 0xc7, 21]), // charset, status, upper capabilities, auth data length
    Buffer.alloc(10),
    Buffer.from('ijklmnopqrst\0caching_sha2_password\0', 'latin1'),
  ]);
  return Buffer.concat([Buffer.from([payload.length & 0xff, (payload.length >> 8) & 0xff, 0, 0]), payload]);
}

/** The SSLRequest a MySQL client answers with: 32 bytes, sequence 1, CLIENT_SSL set. */
function isMysqlSslRequest(message: Buffer): boolean {
  return message.readUIntLE(0, 3) === 32 && message[3] === 1 && (message.readUInt32LE(4) & MYSQL_CLIENT_SSL) !== 0;
}

const XMPP_TLS = 'urn:ietf:params:xml:ns:xmpp-tls';
const XMPP_STREAM_HEADER = "<?xml version='1.0'?><stream:stream from='localhost' id='c2s-1' version='1.0' xml:lang='en' "
  + "xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>";

/** The client's opening stream header, which must name the server as the XMPP domain. */
const hearXmppStream: Step = {
  hear: 'a stream header to localhost',
  frame: (buffered) => { const match = /<stream:stream\b[^>]*>/.exec(buffered.toString('latin1')); return match === null ? undefined : match.index + match[0].length; },
  accept: (message) => /\sto='localhost'/.test(message.toString('latin1')) && message.includes("xmlns='jabber:client'"),
};

/** The go-ahead each protocol ends on, so failure scripts can vary one step of the good one. */
export const STARTTLS_SCRIPTS: Readonly<Record<StarttlsName, Script>> = {
  smtp: {
    steps: [
      say('220 mx.localhost ESMTP certexp-test\r\n'),
      hearLine(/^EHLO \S+$/),
      say('250-mx.localhost greets you\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-STARTTLS\r\n250 8BITMIME\r\n'),
      hearLine(/^STARTTLS$/),
      say('220 2.0.0 Ready to start TLS\r\n'),
    ],
    then: 'tls',
  },
  imap: {
    steps: [
      say('* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] certexp-test ready\r\n'),
      hearLine(/^\w+ STARTTLS$/),
      say((heard) => `${heard.toString('latin1').split(' ')[0] ?? ''} OK Begin TLS negotiation now\r\n`),
    ],
    then: 'tls',
  },
  pop3: {
    steps: [say('+OK certexp-test POP3 ready\r\n'), hearLine(/^STLS$/), say('+OK Begin TLS negotiation\r\n')],
    then: 'tls',
  },
  ftp: {
    // A multi-line greeting with a line that carries no code, as RFC 959 allows.
    steps: [say('220-certexp-test FTP server\r\n  welcome\r\n220 ready\r\n'), hearLine(/^AUTH TLS$/), say('234 AUTH TLS successful\r\n')],
    then: 'tls',
  },
  ldap: {
    steps: [{ hear: 'a StartTLS ExtendedRequest', frame: berElement, accept: isLdapStartTls }, say(ldapExtendedResponse(1, 0))],
    then: 'tls',
  },
  xmpp: {
    steps: [
      hearXmppStream,
      say(`${XMPP_STREAM_HEADER}<stream:features><starttls xmlns='${XMPP_TLS}'><required/></starttls>`
        + "<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms></stream:features>"),
      hearUntil(new RegExp(`<starttls xmlns=['"]${XMPP_TLS}['"]\\s*/>`)),
      say(`<proceed xmlns='${XMPP_TLS}'/>`),
    ],
    then: 'tls',
  },
  postgres: {
    steps: [hearBytes('an SSLRequest', 8, (message) => message.equals(Buffer.from('0000000804d2162f', 'hex'))), say('S')],
    then: 'tls',
  },
  mysql: {
    steps: [say(mysqlHandshake(0xffff)), hearBytes('an SSLRequest packet', 36, isMysqlSslRequest)],
    then: 'tls',
  },
};

/** `script` with step `index` replaced by `step` and what follows dropped, ending as `then`. */
export function divert(script: Script, index: number, step: Step | undefined, then: Script['then']): Script {
  return { steps: [...script.steps.slice(0, index), ...(step === undefined ? [] : [step])], then };
}
