/**
 * Connecting somewhere else than the name says: an `address` override (another IP, same SNI)
 * and an HTTP CONNECT proxy, against loopback servers and a loopback proxy. Proves what is
 * resolved where, what the proxy is asked for, and the reason for each way a proxy fails.
 */
import { systemClock } from '../../src/clock';
import type { HttpProxy } from '../../src/probing/http-connect';
import type { ProbeOutcome, ProbeRequest } from '../../src/probing/prober';
import type { Resolver } from '../../src/probing/resolver';
import { createTlsProber } from '../../src/probing/tls-prober';
import { Secret } from '../../src/web/secret';
import { closedAfterEach } from '../support/closed-after-each';
import { startConnectProxy, type ConnectProxy, type ConnectProxyOptions } from '../support/connect-proxy';
import { expectFailure, expectOk } from '../support/probe-outcomes';
import { buildTestPki, type TestPki } from '../support/scenarios';
import { startStarttlsServer, STARTTLS_SCRIPTS } from '../support/starttls-servers';
import { startRawServer, startTlsServer, type LoopbackHost, type TlsTestServer } from '../support/tls-server';

let pki: TestPki;
const servers = closedAfterEach<TlsTestServer>();

beforeAll(async () => {
  pki = await buildTestPki();
});


async function track<T extends TlsTestServer>(server: Promise<T>): Promise<T> {
  const started = await server;
  servers.push(started);
  return started;
}

/** A TLS server that records the SNI of every handshake. */
async function sniServer(host: LoopbackHost = '127.0.0.1'): Promise<{ server: TlsTestServer; names: string[] }> {
  const names: string[] = [];
  const server = await track(startTlsServer({
    host, key: pki.valid.key, chain: [pki.valid, pki.intermediate],
    serverOptions: { SNICallback: (name, done) => { names.push(name); done(null, undefined); } },
  }));
  return { server, names };
}

/** A resolver that knows `known` and records every name it is asked for. */
function recording(known: Readonly<Record<string, string>>): { resolver: Resolver; asked: string[] } {
  const asked: string[] = [];
  const resolver: Resolver = (host) => {
    asked.push(host);
    const address = known[host];
    return address === undefined ? Promise.reject(Object.assign(new Error(`ENOTFOUND ${host}`), { code: 'ENOTFOUND' })) : Promise.resolve([address]);
  };
  return { resolver, asked };
}

function probe(resolver: Resolver, request: ProbeRequest, timeoutMs = 5000): Promise<ProbeOutcome> {
  return createTlsProber({ resolver, clock: systemClock })(request, AbortSignal.timeout(timeoutMs));
}

function proxyAt(proxy: ConnectProxy, host = proxy.host, authorization?: string): HttpProxy {
  return { host, port: proxy.port, url: `http://${host}:${proxy.port}`, ...(authorization === undefined ? {} : { authorization: new Secret(authorization) }) };
}

async function proxy(options: ConnectProxyOptions = {}): Promise<ConnectProxy> {
  return track(startConnectProxy({ names: { 'shop.test': '127.0.0.1', 'v6.test': '::1' }, ...options }));
}

describe('address override', () => {
  it.each<[LoopbackHost, string]>([['127.0.0.1', '127.0.0.1'], ['::1', '::1']])(
    'connects to %s without resolving the host, and still sends the server name as SNI', async (host, address) => {
      const { server, names } = await sniServer(host);
      const { resolver, asked } = recording({});
      const outcome = expectOk(await probe(resolver, { host: 'shop.test', port: server.port, serverName: 'localhost', address }));

      expect(outcome.address).toBe(address);
      expect(asked).toEqual([]);
      expect(names).toEqual(['localhost']);
    },
  );

  it('resolves an address override that is a name instead of the host', async () => {
    const { server } = await sniServer();
    const { resolver, asked } = recording({ 'origin.test': '127.0.0.1' });
    expectOk(await probe(resolver, { host: 'shop.test', port: server.port, serverName: 'localhost', address: 'origin.test' }));

    expect(asked).toEqual(['origin.test']);
  });
});

describe('HTTP CONNECT proxy', () => {
  it('tunnels to the target by name, leaving the name to the proxy, and the chain comes through', async () => {
    const { server, names } = await sniServer();
    const relay = await proxy();
    const { resolver, asked } = recording({ 'proxy.test': '127.0.0.1' });
    const outcome = expectOk(await probe(resolver, { host: 'shop.test', port: server.port, serverName: 'localhost', proxy: proxyAt(relay, 'proxy.test') }));

    expect(asked).toEqual(['proxy.test']);
    expect(relay.requests).toEqual([{ authority: `shop.test:${server.port}`, headers: { host: `shop.test:${server.port}` } }]);
    expect(outcome.address).toBe('127.0.0.1');
    expect(outcome.chain[0]?.equals(pki.valid.der)).toBe(true);
    expect(names).toEqual(['localhost']);
    expect(outcome.phases.dns).toBeGreaterThanOrEqual(0);
    expect(outcome.phases.connect).toBeGreaterThanOrEqual(0);
  });

  it('asks the proxy for the address override, in brackets for IPv6', async () => {
    const { server } = await sniServer('::1');
    const relay = await proxy();
    expectOk(await probe(recording({}).resolver, { host: 'shop.test', port: server.port, serverName: 'localhost', address: '::1', proxy: proxyAt(relay) }));

    expect(relay.requests.map((r) => r.authority)).toEqual([`[::1]:${server.port}`]);
  });

  it('sends the credentials of proxy_url and gets through a proxy that demands them', async () => {
    const { server } = await sniServer();
    const basic = `Basic ${Buffer.from('probe:s3cret').toString('base64')}`;
    const relay = await proxy({ authorization: basic });
    expectOk(await probe(recording({}).resolver, { host: 'shop.test', port: server.port, serverName: 'localhost', proxy: proxyAt(relay, relay.host, basic) }));

    expect(relay.requests[0]?.headers['proxy-authorization']).toBe(basic);
  });

  it('upgrades a STARTTLS target through the tunnel, and tunnels each version check too', async () => {
    const smtp = await track(startStarttlsServer({ script: STARTTLS_SCRIPTS.smtp, key: pki.valid.key, chain: [pki.valid] }));
    const relay = await proxy();
    const outcome = expectOk(await probe(recording({}).resolver, {
      host: 'shop.test', port: smtp.port, serverName: 'localhost', starttls: 'smtp', checkVersions: ['TLSv1.1', 'TLSv1.3'], proxy: proxyAt(relay),
    }));

    expect(outcome.versions).toEqual({ 'TLSv1.1': false, 'TLSv1.3': true });
    expect(relay.requests).toHaveLength(3);
    expect(smtp.complaints).toEqual([]);
  });

  it.each<[string, ConnectProxyOptions, RegExp]>([
    ['demands credentials it was not given', { authorization: 'Basic bm9ib2R5' }, /answered "HTTP\/1\.1 407 Proxy Authentication Required" to CONNECT shop\.test:\d+: the proxy wants credentials/],
    ['forbids the destination', { answer: '403 Forbidden' }, /answered "HTTP\/1\.1 403 Forbidden" to CONNECT shop\.test:\d+: the proxy's rules forbid/],
    ['cannot resolve the target', { names: {} }, /answered "HTTP\/1\.1 502 Bad Gateway" to CONNECT shop\.test:\d+: the proxy could not reach the target/],
  ])('returns proxy_failed when the proxy %s', async (_label, options, message) => {
    const { server } = await sniServer();
    const relay = await proxy(options);
    const outcome = expectFailure(await probe(recording({}).resolver, { host: 'shop.test', port: server.port, serverName: 'localhost', proxy: proxyAt(relay) }));

    expect(outcome.reason).toBe('proxy_failed');
    expect(outcome.error).toMatch(new RegExp(`^proxy: http://127\\.0\\.0\\.1:${relay.port}: `));
    expect(outcome.error).toMatch(message);
  });

  it('returns handshake_failed when bytes that are not TLS come through the tunnel first', async () => {
    const { server } = await sniServer();
    const relay = await proxy({ trailing: 'junk that is not TLS\r\n' });
    const outcome = expectFailure(await probe(recording({}).resolver, { host: 'shop.test', port: server.port, serverName: 'localhost', proxy: proxyAt(relay) }));

    expect(outcome.reason).toBe('handshake_failed');
  });

  it('returns proxy_failed when what listens at proxy_url is not an HTTP proxy', async () => {
    const notProxy = await track(startRawServer('127.0.0.1', (socket) => { socket.resume(); socket.write('SSH-2.0-OpenSSH_9.6\r\n\r\n'); }));
    const outcome = expectFailure(await probe(recording({}).resolver, { host: 'shop.test', port: 443, serverName: 'localhost', proxy: proxyAt({ ...notProxy, requests: [] }) }));

    expect(outcome.reason).toBe('proxy_failed');
    expect(outcome.error).toMatch(/expected an HTTP answer to CONNECT shop\.test:443, got "SSH-2\.0-OpenSSH_9\.6": is proxy_url an HTTP proxy\?/);
  });

  it('returns proxy_failed within the timeout when the proxy never answers', async () => {
    const silent = await track(startRawServer('127.0.0.1', (socket) => { socket.resume(); }));
    const started = Date.now();
    const outcome = expectFailure(await probe(recording({}).resolver, { host: 'shop.test', port: 443, serverName: 'localhost', proxy: proxyAt({ ...silent, requests: [] }) }, 300));

    expect(outcome.reason).toBe('proxy_failed');
    expect(outcome.error).toMatch(/timed out while waiting for the answer to CONNECT/);
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it('returns connection_refused, about the proxy, when nothing listens at proxy_url', async () => {
    const gone = await startRawServer('127.0.0.1', (socket) => { socket.destroy(); });
    await gone.close();
    const outcome = expectFailure(await probe(recording({}).resolver, { host: 'shop.test', port: 443, serverName: 'localhost', proxy: proxyAt({ ...gone, requests: [] }) }));

    expect(outcome.reason).toBe('connection_refused');
    expect(outcome.address).toBe('127.0.0.1');
  });

  it('returns dns_error when the proxy\'s own name does not resolve', async () => {
    const relay = await proxy();
    const outcome = expectFailure(await probe(recording({}).resolver, { host: 'shop.test', port: 443, serverName: 'localhost', proxy: proxyAt(relay, 'proxy.invalid') }));

    expect(outcome.reason).toBe('dns_error');
    expect(outcome.error).toContain('proxy.invalid');
  });
});
