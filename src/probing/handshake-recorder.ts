import type { Socket } from 'node:net';
import { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { ownBuffer } from '../own-buffer';
import { certificatesInRecording, type HandshakeKeys } from './tls-records';

/**
 * More than any honest handshake flight (OpenSSL refuses certificate lists over 100 KB); past it
 * the recording is dropped and the chain is read the leaky way.
 */
const MAX_RECORDED = 256 * 1024;

const SECRET_LABEL = 'SERVER_HANDSHAKE_TRAFFIC_SECRET ';

/**
 * A TCP socket for TLS to run over, copying what the server sends until the handshake is done,
 * so the chain can be read from the records (tls-records.ts). TLS then runs over a JavaScript
 * stream instead of straight on the socket, which costs a quarter more CPU per handshake: the
 * prober records only the handshakes whose chain it has not seen.
 */
export class HandshakeRecorder {
  /** What to hand tls.connect as its `socket`. */
  readonly stream: Duplex;
  private chunks: Buffer[] | undefined = [];
  private recorded = 0;
  private serverSecret: Buffer | undefined;

  constructor(tcp: Socket) {
    const record = (chunk: Buffer): void => {
      if (this.chunks === undefined) return;
      this.recorded += chunk.length;
      if (this.recorded > MAX_RECORDED) this.chunks = undefined;
      else this.chunks.push(chunk);
    };
    const stream: Duplex = new Duplex({
      read: () => { tcp.resume(); },
      write: (chunk: Buffer, _encoding, done) => { tcp.write(chunk, done); },
      final: (done) => { tcp.end(); done(); },
      destroy: (error, done) => { tcp.destroy(); done(error); },
    });
    tcp.on('data', (chunk: Buffer) => {
      record(chunk);
      if (!stream.push(chunk)) tcp.pause();
    });
    tcp.on('end', () => { stream.push(null); });
    tcp.on('error', (error) => { stream.destroy(error); });
    tcp.on('close', () => { stream.destroy(); });
    this.stream = stream;
  }

  /** Catches the TLS 1.3 handshake secret: call at once after tls.connect, before the server answers. */
  watch(socket: TLSSocket): void {
    socket.on('keylog', (line: Buffer) => {
      const text = line.toString('latin1');
      if (!text.startsWith(SECRET_LABEL)) return;
      const secret = text.trimEnd().split(' ')[2];
      if (secret !== undefined) this.serverSecret = Buffer.from(secret, 'hex');
    });
  }

  /**
   * The certificates the server sent, in its order, at most `max`, each in a buffer of its own;
   * undefined when the records cannot be read. Ends the recording.
   */
  presented(socket: TLSSocket, max: number): Buffer[] | undefined {
    const chunks = this.chunks;
    this.chunks = undefined;
    if (chunks === undefined) return undefined;
    let keys: HandshakeKeys | undefined;
    if (socket.getProtocol() === 'TLSv1.3') {
      if (this.serverSecret === undefined) return undefined;
      keys = { cipher: socket.getCipher().standardName, serverSecret: this.serverSecret };
    }
    return certificatesInRecording(Buffer.concat(chunks), keys, max)?.map(ownBuffer);
  }
}
