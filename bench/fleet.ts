/**
 * The loopback TLS fleet: one Node TLS server answering many SNI names, each with its own leaf
 * certificate (SNICallback over prebuilt secure contexts), so N targets cost N names, not N
 * processes. Runs as its own process so its CPU is never counted against the exporter measured.
 *
 *   node bench-dist/bench/fleet.js --certs=FILE --shard=K --shards=S
 *
 * Serves the names whose index i has i % S == K, on 127.0.0.1 and an ephemeral port, and prints
 * one JSON line {"port":...,"names":...} on stdout once it listens. Exits on SIGTERM or when
 * stdin closes (the bench died), so it never outlives the run.
 */
import { readFileSync } from 'node:fs';
import { createSecureContext, createServer, type SecureContext, type TLSSocket } from 'node:tls';
import { parseArgs } from 'node:util';
import type { FleetCerts } from './fleet-certs';

/** A client that neither talks nor closes is dropped after this long. */
const IDLE_MS = 10_000;

function main(): void {
  const { values } = parseArgs({
    options: { certs: { type: 'string' }, shard: { type: 'string', default: '0' }, shards: { type: 'string', default: '1' } },
    strict: true,
  });
  if (values.certs === undefined) throw new Error('--certs=FILE is required');
  const shard = Number(values.shard);
  const shards = Number(values.shards);
  const certs = JSON.parse(readFileSync(values.certs, 'utf8')) as FleetCerts;

  // Every context is built before the fleet says it is ready, so no phase of the bench pays
  // (through a slower server) for the first contact with a name. 10,000 take ~9 s and ~400 MB.
  const contexts = new Map<string, SecureContext>();
  certs.names.forEach((name, i) => {
    const leaf = certs.leafPems[i];
    if (i % shards !== shard || leaf === undefined) return;
    contexts.set(name, createSecureContext({ key: certs.leafKeyPem, cert: leaf + certs.intermediatePem }));
  });
  if (contexts.size === 0) throw new Error(`shard ${shard} of ${shards} serves no names`);

  const server = createServer({
    // The default context answers clients that send no SNI; every bench client sends one.
    key: certs.leafKeyPem,
    cert: (certs.leafPems[shard] ?? '') + certs.intermediatePem,
    SNICallback: (servername, callback) => {
      const context = contexts.get(servername);
      if (context === undefined) callback(new Error(`unknown server name ${servername}`), undefined);
      else callback(null, context);
    },
  });
  // Like a web server waiting for a request: the client decides when the connection ends.
  server.on('secureConnection', (socket: TLSSocket) => {
    socket.on('error', () => undefined);
    socket.setTimeout(IDLE_MS, () => { socket.destroy(); });
    socket.resume();
  });
  // Probes that destroy the socket right after the handshake (the floor loop) are expected.
  server.on('tlsClientError', () => undefined);
  server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('unexpected server address');
    process.stdout.write(`${JSON.stringify({ port: address.port, names: contexts.size })}\n`);
  });

  const stop = (): void => { process.exit(0); };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.stdin.on('end', stop);
  process.stdin.on('close', stop);
  process.stdin.resume();
}

main();
