/**
 * The status page in a real browser (Debian chromium driven by playwright-core): the rows a
 * daemon probing loopback servers shows, sorting, filtering, the detail view, and no script
 * from a hostile certificate name. A screenshot is kept in test-artifacts/.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { derToPem } from '../../src/pki/pem';
import { select } from '../support/metrics-text';
import { createCertificate } from '../support/pki';
import { startHarness, waitFor, type Harness } from '../support/daemon-harness';
import { buildTestPki } from '../support/scenarios';
import { startTlsServer, type TlsTestServer } from '../support/tls-server';
import { describeWithTool } from '../support/tools';

const ARTIFACTS = join(__dirname, '..', '..', 'test-artifacts');

describeWithTool('chromium', 'chromium', 'the status page in headless Chromium', () => {
  let harness: Harness;
  let servers: TlsTestServer[];
  let browser: Browser;
  let page: Page;
  let url: string;
  const dialogs: string[] = [];

  beforeAll(async () => {
    const pki = await buildTestPki();
    const hostile = await createCertificate({ subjectCn: '<img src=x onerror=alert(1)>', issuer: pki.intermediate, dnsNames: ['localhost'] });
    servers = await Promise.all([
      startTlsServer({ key: pki.valid.key, chain: [pki.valid, pki.intermediate] }),
      startTlsServer({ key: pki.expiringSoon.key, chain: [pki.expiringSoon, pki.intermediate] }),
      startTlsServer({ key: pki.expired.key, chain: [pki.expired, pki.intermediate] }),
      startTlsServer({ key: hostile.key, chain: [hostile, pki.intermediate] }),
    ]);
    const [valid, soon, expired, evil] = servers.map((s) => s.port);
    harness = await startHarness(`defaults: { interval: 1s, timeout: 1s, ca_file: root.pem }
targets:
  - { name: shop, host: 127.0.0.1, port: ${valid}, server_name: localhost }
  - { name: api, host: 127.0.0.1, port: ${soon}, server_name: localhost }
  - { name: legacy, host: 127.0.0.1, port: ${expired}, server_name: localhost }
  - { name: "<b>evil</b>", host: 127.0.0.1, port: ${evil}, server_name: localhost }
  - { name: down, host: 127.0.0.1, port: 1 }
`, { 'root.pem': derToPem(pki.root.der) });
    await waitFor('a probe of every target', async () => select((await harness.scrape()).samples, 'certexp_probe_success').length === 5);
    url = await harness.app.listen({ host: '127.0.0.1', port: 0 });
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    page = await browser.newPage();
    page.on('dialog', (dialog) => { dialogs.push(dialog.message()); void dialog.dismiss(); });
    await page.goto(url);
  }, 60_000);

  afterAll(async () => {
    await browser.close();
    await harness.close();
    await Promise.all(servers.map((s) => s.close()));
  });

  /** An attribute of every visible target row, in page order. */
  async function rowAttribute(name: string): Promise<string[]> {
    const rows = page.locator('tr.target:not([hidden])');
    const values: string[] = [];
    for (let i = 0; i < await rows.count(); i++) values.push(await rows.nth(i).getAttribute(name) ?? '');
    return values;
  }
  const names = (): Promise<string[]> => rowAttribute('data-name');

  it('lists every target with its verdict and a colour band for days left', async () => {
    expect(await names()).toEqual(['shop', 'api', 'legacy', '<b>evil</b>', 'down']);
    expect(await rowAttribute('class')).toEqual(['target band-good', 'target band-warn', 'target band-bad', 'target band-good', 'target band-bad']);
    expect(await page.textContent('tr.target[data-name="legacy"] td:nth-child(3)')).toBe('not verified: expired');
    expect(await page.textContent('tr.target[data-name="down"] td:nth-child(3)')).toBe('probe failed: connection_refused');
  });

  it('sorts by days left when the header is clicked, and reverses on a second click', async () => {
    await page.click('th[data-key="days"]');
    // shop and evil both have 90 days left, a few milliseconds apart: their order is not the point.
    const ascending = await names();
    expect(ascending.slice(0, 2)).toEqual(['legacy', 'api']);
    expect(ascending.slice(2, 4).sort()).toEqual(['<b>evil</b>', 'shop']);
    expect(ascending[4]).toBe('down');
    await page.click('th[data-key="days"]');
    expect((await names())[0]).toBe('down');
  });

  it('shows the chain and the fixes of a target when its row is clicked', async () => {
    await page.click('tr.target[data-name="legacy"]');
    const detail = page.locator('tr.target[data-name="legacy"] + tr.detail');
    expect(await detail.isVisible()).toBe(true);
    const text = await detail.textContent();
    expect(text).toContain('expired: a certificate on the chain is past its notAfter');
    expect(text).toContain('CN=certexp-test Intermediate CA');
    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'status-page.png'), fullPage: true });
  });

  it('filters rows by what is typed', async () => {
    await page.fill('#filter', 'api');
    expect(await names()).toEqual(['api']);
    await page.fill('#filter', '');
    expect(await names()).toHaveLength(5);
  });

  it('renders hostile names as text and runs none of their markup', async () => {
    expect(dialogs).toEqual([]);
    expect(await page.$$('tr.target img, tr.target b')).toHaveLength(0);
    await page.click('tr.target[data-name="<b>evil</b>"]');
    expect(await page.textContent('tr.target[data-name="<b>evil</b>"] + tr.detail')).toContain('<img src=x onerror=alert(1)>');
    expect(dialogs).toEqual([]);
  });
});
