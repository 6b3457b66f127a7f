/**
 * TLS servers on several loopback addresses behind one port, as the nodes behind one DNS name
 * are: 127.0.0.2:P, 127.0.0.3:P, [::1]:P. Linux answers on all of 127.0.0.0/8.
 */
import type { KeyPair, TestCert } from './pki';
import { startTlsServer, type LoopbackHost, type TlsTestServer } from './tls-server';

export interface Node {
  readonly host: LoopbackHost;
  /** Leaf first; its key is `key`. */
  readonly chain: TestCert[];
  readonly key: KeyPair;
}

/** One server per node, all on one port; retried on another port when that one is taken on some address. */
export async function startNodes(nodes: readonly Node[], onSni?: (host: LoopbackHost, name: string) => void): Promise<{ port: number; servers: TlsTestServer[] }> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const servers: TlsTestServer[] = [];
    let port = 0;
    try {
      for (const node of nodes) {
        const server = await startTlsServer({
          host: node.host, port, key: node.key, chain: node.chain,
          ...(onSni === undefined ? {} : { serverOptions: { SNICallback: (name, done) => { onSni(node.host, name); done(null, undefined); } } }),
        });
        servers.push(server);
        port = server.port;
      }
      return { port, servers };
    } catch (error) {
      await Promise.all(servers.map((s) => s.close()));
      if (!(error instanceof Error && 'code' in error && error.code === 'EADDRINUSE')) throw error;
    }
  }
  throw new Error('no port free on every node address after 5 attempts');
}
