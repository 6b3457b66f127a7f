import pino from 'pino';
import { systemClock } from '../../src/clock';
import { Daemon } from '../../src/daemon';
import type { TargetConfig } from '../../src/config/config-types';
import { buildApp } from '../../src/web/app';
import { renderStatusPage } from '../../src/web/status-page';

describe('the web app before a config is loaded', () => {
  const logger = pino({ level: 'silent' });
  const daemon = new Daemon({ configFile: '/nonexistent/certexp.yml', logger, concurrency: 1 });
  const app = buildApp({ daemon, clock: systemClock, logger });

  afterAll(async () => {
    await app.close();
  });

  it('is healthy but not ready', async () => {
    expect((await app.inject({ url: '/-/healthy' })).statusCode).toBe(200);
    const ready = await app.inject({ url: '/-/ready' });
    expect(ready.statusCode).toBe(503);
  });

  it('reports a failed reload with the file error and a 0 on /metrics', async () => {
    const reload = await app.inject({ method: 'POST', url: '/-/reload' });
    expect(reload.statusCode).toBe(500);
    expect(reload.body).toMatch(/\/nonexistent\/certexp\.yml:1:1: \(root\): cannot read config file: ENOENT/);
    const metrics = await app.inject({ url: '/metrics' });
    expect(metrics.body).toMatch(/^certexp_config_last_reload_successful 0$/m);
    expect(metrics.body).toMatch(/^certexp_build_info\{version="\d+\.\d+\.\d+",nodejs_version="v20\.[\d.]+"\} 1$/m);
  });

  it('refuses /probe for targets that are not configured and over-long parameters', async () => {
    expect((await app.inject({ url: '/probe?target=127.0.0.1:443' })).statusCode).toBe(403);
    expect((await app.inject({ url: `/probe?target=${'a'.repeat(600)}` })).statusCode).toBe(400);
  });

  it('serves the status page as HTML even with no targets', async () => {
    const page = await app.inject({ url: '/' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.body).toMatch(/<tbody>\s*<\/tbody>/);
  });
});

describe('the status page', () => {
  it('escapes names so a hostile target or certificate field cannot inject markup', () => {
    const target: TargetConfig = {
      name: '<script>alert(1)</script>', host: 'example.test', port: 443, serverName: '"x" & y',
      intervalMs: 60_000, timeoutMs: 1000, caCertificates: [], policy: 'web', line: 1,
    };
    const html = renderStatusPage([target], () => undefined, systemClock);
    // One script element: the page's own.
    expect(html.match(/<script>/g)).toHaveLength(1);
    expect(html).not.toContain('<script>alert');
    expect(html).toContain('&#60;script&#62;alert(1)&#60;/script&#62;');
    expect(html).toContain('&#34;x&#34; &#38; y');
    expect(html).toContain('not probed yet');
  });

  it('escapes certificate file paths and entry names too, and shows no files table without files', () => {
    const file = { source: '<b>k8s</b>', file: '/etc/"tls"/<i>.crt', readAt: 0, failure: { reason: 'not_found' as const, error: 'cannot open: ENOENT' }, chain: undefined };
    const html = renderStatusPage([], () => undefined, systemClock, undefined, [file]);
    expect(html).toContain('<td>/etc/&#34;tls&#34;/&#60;i&#62;.crt<div class="sub">&#60;b&#62;k8s&#60;/b&#62;</div></td>');
    expect(html).toContain('<td>unreadable: not_found (cannot open: ENOENT)</td>');
    expect(renderStatusPage([], () => undefined, systemClock)).not.toContain('<table id="files">');
  });
});
