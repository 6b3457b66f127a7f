/**
 * The chain read from a handshake's own records (HandshakeRecorder, tls-records.ts) against real
 * TLS servers on loopback, for every TLS 1.3 suite a Node client offers, TLS 1.2 and 1.0, a
 * HelloRetryRequest, and records that are not what they claim.
 */
import { createHash } from 'node:crypto';
import { connect as tcpConnect } from 'node:net';
import { connect, type SecureVersion, type TLSSocket } from 'node:tls';
import { HandshakeRecorder } from '../../src/probing/handshake-recorder';
import { certificatesInRecording } from '../../src/probing/tls-records';
import { closedAfterEach } from '../support/closed-after-each';
import type { TestCert } from '../support/pki';
import { buildTestPki, type TestPki } from '../support/scenarios';
import { startTlsServer, type TlsServerOptions, type TlsTestServer } from '../support/tls-server';

let pki: TestPki;
const servers = closedAfterEach<TlsTestServer>();

beforeAll(async () => {
  pki = await buildTestPki();
});

interface Read {
  readonly presented: Buffer[] | undefined;
  readonly cipher: string;
  readonly protocol: string | null;
  readonly group: string | undefined;
}

/** One recorded handshake with a server presenting `chain`. */
async function recordedHandshake(chain: TestCert[], options: Partial<TlsServerOptions> = {}, max = 64): Promise<Read> {
  const [leaf] = chain;
  if (leaf === undefined) throw new Error('empty chain');
  const server = await startTlsServer({ host: '127.0.0.1', key: leaf.key, chain, ...options });
  servers.push(server);
  return new Promise<Read>((resolve, reject) => {
    const tcp = tcpConnect({ host: '127.0.0.1', port: server.port }, () => {
      const recorder = new HandshakeRecorder(tcp);
      const socket: TLSSocket = connect({ socket: recorder.stream, servername: 'localhost', rejectUnauthorized: false, minVersion: 'TLSv1', ciphers: 'DEFAULT:@SECLEVEL=0' }, () => {
        resolve({
          presented: recorder.presented(socket, max),
          cipher: socket.getCipher().standardName,
          protocol: socket.getProtocol(),
          group: (socket.getEphemeralKeyInfo() as { name?: string } | null)?.name,
        });
        socket.destroy();
      });
      recorder.watch(socket);
      socket.once('error', reject);
    });
    tcp.once('error', reject);
  });
}

const fingerprints = (chain: readonly Buffer[] | undefined): string[] | undefined => chain?.map((der) => createHash('sha256').update(der).digest('hex'));
const expected = (chain: TestCert[]): string[] => chain.map((cert) => cert.fingerprintSha256);

describe('the chain read from the handshake records', () => {
  it.each(['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256'])('opens TLS 1.3 under %s', async (suite) => {
    const chain = [pki.valid, pki.intermediate, pki.root];
    const read = await recordedHandshake(chain, { serverOptions: { ciphers: suite } });
    expect(read.protocol).toBe('TLSv1.3');
    expect(read.cipher).toBe(suite);
    expect(fingerprints(read.presented)).toEqual(expected(chain));
  });

  it.each(['TLSv1.2', 'TLSv1'] as SecureVersion[])('reads %s records in the clear, out of order and with an unrelated root as sent', async (version) => {
    const chain = [pki.valid, pki.otherRoot, pki.root, pki.intermediate];
    const read = await recordedHandshake(chain, { minVersion: version, maxVersion: version, serverOptions: { ciphers: 'DEFAULT:@SECLEVEL=0' } });
    expect(read.protocol).toBe(version);
    expect(fingerprints(read.presented)).toEqual(expected(chain));
  });

  it('reads the chain after a HelloRetryRequest (the server wants a group the client sent no share for)', async () => {
    const chain = [pki.valid, pki.intermediate];
    const read = await recordedHandshake(chain, { serverOptions: { ecdhCurve: 'P-384' } });
    expect(read.group).toBe('secp384r1');
    expect(fingerprints(read.presented)).toEqual(expected(chain));
  });

  it('keeps at most `max` certificates of a long chain', async () => {
    const chain = [pki.valid, pki.intermediate, pki.root, pki.otherRoot, pki.otherIntermediate];
    const read = await recordedHandshake(chain, {}, 3);
    expect(fingerprints(read.presented)).toEqual(expected(chain.slice(0, 3)));
  });

  it('a single certificate, in a buffer of its own', async () => {
    const read = await recordedHandshake([pki.selfSigned]);
    expect(fingerprints(read.presented)).toEqual(expected([pki.selfSigned]));
    // Neither a view into the recording nor a slice of Node's 8 KB pool: the leaf is kept for as long as it is served.
    expect(read.presented?.[0]?.buffer.byteLength).toBe(read.presented?.[0]?.length);
  });
});

describe('certificatesInRecording on what is not a whole handshake', () => {
  const record = (type: number, body: Buffer): Buffer => Buffer.concat([Buffer.from([type, 3, 3, body.length >> 8, body.length & 0xff]), body]);
  const message = (type: number, body: Buffer): Buffer => Buffer.concat([Buffer.from([type, body.length >> 16, (body.length >> 8) & 0xff, body.length & 0xff]), body]);
  const u24 = (n: number): Buffer => Buffer.from([n >> 16, (n >> 8) & 0xff, n & 0xff]);
  const certificateMessage = (...certs: Buffer[]): Buffer => {
    const list = Buffer.concat(certs.map((c) => Buffer.concat([u24(c.length), c])));
    return message(11, Buffer.concat([u24(list.length), list]));
  };

  it('finds a TLS 1.2 Certificate message split over two records, after another message', () => {
    const whole = Buffer.concat([message(2, Buffer.alloc(40, 1)), certificateMessage(Buffer.from('first'), Buffer.from('second'))]);
    const recording = Buffer.concat([record(22, whole.subarray(0, 50)), record(22, whole.subarray(50))]);
    expect(certificatesInRecording(recording, undefined, 64)?.map(String)).toEqual(['first', 'second']);
  });

  it.each([
    ['bytes that are not TLS', Buffer.from('HTTP/1.1 400 Bad Request\r\n\r\n')],
    ['a Certificate message cut short', record(22, certificateMessage(Buffer.from('first')).subarray(0, 9))],
    ['a certificate longer than its list', record(22, message(11, Buffer.concat([u24(4), u24(9), Buffer.from('abcd')])))],
    ['a record longer than the recording', record(22, certificateMessage(Buffer.from('first'))).subarray(0, 12)],
    ['no Certificate message at all', record(22, message(2, Buffer.alloc(40)))],
    ['nothing', Buffer.alloc(0)],
  ])('gives undefined for %s', (_what, recording) => {
    expect(certificatesInRecording(recording, undefined, 64)).toBeUndefined();
  });

  it('gives undefined for TLS 1.3 records under a wrong secret or a suite it does not know', () => {
    const sealed = record(23, Buffer.alloc(64, 7));
    expect(certificatesInRecording(sealed, { cipher: 'TLS_AES_128_GCM_SHA256', serverSecret: Buffer.alloc(32, 1) }, 64)).toBeUndefined();
    expect(certificatesInRecording(sealed, { cipher: 'TLS_AES_128_CCM_SHA256', serverSecret: Buffer.alloc(32, 1) }, 64)).toBeUndefined();
  });
});
