/**
 * /probe against a real daemon and real loopback servers: configured and allowed targets probe,
 * everything else is refused before a connection is made (the servers count what reaches them),
 * the scrape-timeout header bounds a slow probe, and every request is counted by outcome.
 */
import type { Socket } from 'node:net';
import pino from 'pino';
import { derToPem } from '../../src/pki/pem';
import { systemClock } from '../../src/clock';
import { buildApp } from '../../src/web/app';
import { startHarness, type Harness } from '../support/daemon-harness';
import { parseMetrics, select, value } from '../support/metrics-text';
import { buildTestPki } from '../support/scenarios';
import { startRawServer, startTlsServer, type TlsTestServer } from '../support/tls-server';

const NAMES: Readonly<Record<string, readonly string[]>> = {
  'configured.test': ['127.0.0.1'],
  'shop.allowed.test': ['127.0.0.1'],
  'evil.allowed.test': ['127.0.0.2'],
  'meta.allowed.test': ['169.254.169.254'],
  'mixed.allowed.test': ['127.0.0.1', '169.254.169.254'],
};

describe('/probe', () => {
  let harness: Harness;
  let tls: TlsTestServer;
  let counting: TlsTestServer;
  let silent: TlsTestServer;
  const reached: Socket[] = [];
  const lookups: string[] = [];

  const probe = (query: string, headers: Record<string, string> = {}) => harness.app.inject({ url: `/probe?${query}`, headers });

  beforeAll(async () => {
    const pki = await buildTestPki();
    tls = await startTlsServer({ key: pki.valid.key, chain: [pki.valid, pki.intermediate] });
    counting = await startRawServer('127.0.0.2', (socket) => { reached.push(socket); socket.destroy(); });
    silent = await startRawServer('127.0.0.1', () => undefined);
    const config = [
      'defaults:', '  interval: 1h', '  timeout: 10s', '  ca_file: root.pem',
      'targets:',
      `  - { name: configured, host: configured.test, port: ${tls.port}, server_name: localhost }`,
      `  - { name: silent, host: 127.0.0.1, port: ${silent.port} }`,
      'probe:',
      '  allow:',
      '    - "**.allowed.test:*"',
      `    - "127.0.0.0/8:${tls.port}"`,
      '  deny: [127.0.0.2]',
      '  defaults:',
      '    timeout: 3s',
    ].join('\n');
    const resolver = (host: string): Promise<readonly string[]> => {
      lookups.push(host);
      return Promise.resolve(NAMES[host] ?? []);
    };
    harness = await startHarness(`${config}\n`, { 'root.pem': derToPem(pki.root.der) }, resolver);
  });

  afterAll(async () => {
    await harness.close();
    await Promise.all([tls.close(), counting.close(), silent.close()]);
  });

  describe('probes', () => {
    it('a configured target by name, in a response of its own', async () => {
      const response = await probe('target=configured');
      expect(response.statusCode).toBe(200);
      expect(value(parseMetrics(response.body), 'certexp_verify_success', { target: 'configured' })).toBe(1);
    });

    it('a target an allow glob matches, by its name, with the server name asked for', async () => {
      const response = await probe(`target=shop.allowed.test:${tls.port}&server_name=localhost`);
      expect(response.statusCode).toBe(200);
      const samples = parseMetrics(response.body);
      const target = { target: `shop.allowed.test:${tls.port}` };
      expect(value(samples, 'certexp_probe_success', target)).toBe(1);
      // The chain verifies against defaults.ca_file, which ad-hoc targets inherit.
      expect(value(samples, 'certexp_verify_success', target)).toBe(1);
    });

    it('an IP literal an allow CIDR matches', async () => {
      const response = await probe(`target=127.0.0.1:${tls.port}&server_name=localhost`);
      expect(value(parseMetrics(response.body), 'certexp_verify_success', { target: `127.0.0.1:${tls.port}` })).toBe(1);
    });

    it('and keeps ad-hoc targets out of /metrics', async () => {
      expect((await harness.scrape()).body).not.toMatch(/allowed\.test|127\.0\.0\.1:\d+"/);
    });
  });

  describe('refuses with 403, before any connection', () => {
    it('a target no allow pattern matches, without even resolving its name', async () => {
      for (const target of [`127.0.0.2:${counting.port}`, `other.test:${counting.port}`, 'allowed.test:443']) {
        const response = await probe(`target=${target}`);
        expect([target, response.statusCode, response.body]).toEqual([target, 403, `target "${target}": it is not in the configuration, and no probe.allow pattern matches it\n`]);
      }
      expect(lookups).not.toContain('other.test');
      expect(lookups).not.toContain('allowed.test');
    });

    it('an allowed name that resolves to an address probe.deny lists', async () => {
      const response = await probe(`target=evil.allowed.test:${counting.port}`);
      expect(response.statusCode).toBe(403);
      expect(response.body).toBe(`target "evil.allowed.test:${counting.port}": dns: evil.allowed.test resolves to 127.0.0.2 is in probe.deny\n`);
    });

    it('an allowed name that resolves to the cloud metadata address, alone or among others', async () => {
      for (const name of ['meta.allowed.test', 'mixed.allowed.test']) {
        const response = await probe(`target=${name}:${tls.port}`);
        expect([name, response.statusCode]).toEqual([name, 403]);
        expect(response.body).toMatch(/resolves to 169\.254\.169\.254 is link-local, where cloud metadata services answer/);
      }
    });

    it('having let nothing reach the server behind the denied address', () => {
      expect(reached).toHaveLength(0);
    });
  });

  describe('refuses malformed requests', () => {
    it.each<[string, string, number, RegExp]>([
      ['a query string over 2 KB', `target=configured&pad=${'x'.repeat(2100)}`, 414, /^the query string is longer than 2048 bytes$/],
      ['a missing target', 'server_name=x', 400, /^target parameter is missing$/],
      ['a repeated target', 'target=configured&target=silent', 400, /^target is given more than once$/],
      ['an over-long target', `target=${'a'.repeat(600)}`, 400, /^target is longer than 512 characters$/],
      ['a target that is neither a name nor HOST:PORT', 'target=a:b:c', 400, /^target "a:b:c" is not a configured name, nor HOST:PORT: .*in brackets/],
      ['a bad server name', 'target=configured&server_name=http://x', 400, /^server_name: "http:\/\/x" is not a bare DNS name/],
    ])('%s', async (_what, query, status, message) => {
      const response = await probe(query);
      expect(response.statusCode).toBe(status);
      expect(response.body.trimEnd()).toMatch(message);
    });

    it('a scrape timeout header that is not a number of seconds', async () => {
      const response = await probe('target=configured', { 'x-prometheus-scrape-timeout-seconds': 'soon' });
      expect([response.statusCode, response.body]).toEqual([400, 'X-Prometheus-Scrape-Timeout-Seconds "soon": want one positive number of seconds\n']);
    });
  });

  describe('honours X-Prometheus-Scrape-Timeout-Seconds', () => {
    it('ending a probe of a silent server 0.5 s before the scrape timeout, with the timeout as its failure', async () => {
      const started = performance.now();
      const response = await probe('target=silent', { 'x-prometheus-scrape-timeout-seconds': '1.5' });
      const seconds = (performance.now() - started) / 1000;
      expect(response.statusCode).toBe(200);
      // The target's own timeout is 10 s: only the header can have ended it this early.
      expect(seconds).toBeGreaterThan(0.9);
      expect(seconds).toBeLessThan(1.45);
      const samples = parseMetrics(response.body);
      expect(value(samples, 'certexp_probe_success', { target: 'silent' })).toBe(0);
      expect(select(samples, 'certexp_probe_failure', { target: 'silent' }).map((s) => s.labels.reason)).toEqual(['handshake_timeout']);
    });

    it('answering 503 when no probe slot comes free within it', async () => {
      const logger = pino({ level: 'silent' });
      const narrow = buildApp({ daemon: harness.daemon, clock: systemClock, logger, probe: { timeoutOffsetMs: 500, concurrency: 1 } });
      try {
        const headers = { 'x-prometheus-scrape-timeout-seconds': '1.5' };
        const [first, second] = await Promise.all([narrow.inject({ url: '/probe?target=silent', headers }), narrow.inject({ url: '/probe?target=configured', headers })]);
        expect(first.statusCode).toBe(200);
        expect(second.statusCode).toBe(503);
        expect(second.body).toMatch(/^no probe slot came free within half the scrape's budget \(1 \/probe requests probing already\)/);
      } finally {
        await narrow.close();
      }
    });
  });

  it('counts every request by outcome on /metrics', async () => {
    const samples = (await harness.scrape()).samples;
    const count = (outcome: string): number => value(samples, 'certexp_probe_requests_total', { outcome });
    // Probes answered: three above, the silent one, and the first through the narrow app; refused:
    // 3 + 1 + 2 targets, 6 + 1 malformed requests, and the narrow app's 503 (its log is silent).
    expect([count('ok'), count('denied'), count('invalid'), count('overloaded')]).toEqual([5, 6, 7, 1]);
    const refusals = harness.logs.filter((line) => line.msg === '/probe refused');
    expect(refusals).toHaveLength(13);
    expect(refusals[0]).toMatchObject({ level: 40, outcome: 'denied', status: 403 });
    expect(harness.logs.find((line) => line.msg === 'config loaded')).toMatchObject({ probe_allow: ['**.allowed.test:*', `127.0.0.0/8:${tls.port}`], probe_deny: 1 });
  });
});
