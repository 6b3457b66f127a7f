/**
 * The TLS 1.3 verdict on our client certificate, driven by a stand-in socket: which of the
 * server's first words mean accepted, which mean refused, and that every wait is bounded.
 */
import { EventEmitter } from 'node:events';
import { clientCertificateVerdict, VERDICT_WAIT_MS } from '../../src/probing/client-certificate-verdict';

/** Stands in for the TLS socket: the verdict only listens to it. */
function socket(): EventEmitter {
  return new EventEmitter();
}

function alert(code: string): Error {
  return Object.assign(new Error(`SSL alert: ${code}`), { code });
}

describe('clientCertificateVerdict', () => {
  it.each(['session', 'data'])('accepts when the server\'s first word is %s', async (event) => {
    const s = socket();
    const verdict = clientCertificateVerdict(s, AbortSignal.timeout(5000));
    s.emit(event, Buffer.alloc(0));
    await expect(verdict).resolves.toBeUndefined();
    expect(s.eventNames()).toEqual([]);
  });

  it('refuses with the alert when the server sends one about our certificate', async () => {
    const s = socket();
    const verdict = clientCertificateVerdict(s, AbortSignal.timeout(5000));
    s.emit('error', alert('ERR_SSL_TLSV1_ALERT_UNKNOWN_CA'));
    await expect(verdict).resolves.toMatchObject({ reason: 'client_cert_rejected', message: 'handshake: SSL alert: ERR_SSL_TLSV1_ALERT_UNKNOWN_CA' });
  });

  it('refuses when the server fails the connection some other way right after the handshake', async () => {
    const s = socket();
    const verdict = clientCertificateVerdict(s, AbortSignal.timeout(5000));
    s.emit('error', Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }));
    await expect(verdict).resolves.toMatchObject({ reason: 'client_cert_rejected', message: expect.stringMatching(/^handshake: read ECONNRESET, after the handshake/) as unknown });
  });

  it.each(['end', 'close'])('refuses when the server closes the connection (%s) without a ticket or data', async (event) => {
    const s = socket();
    const verdict = clientCertificateVerdict(s, AbortSignal.timeout(5000));
    s.emit(event);
    await expect(verdict).resolves.toMatchObject({ reason: 'client_cert_rejected' });
  });

  it('gives a silent server the benefit of the doubt after the wait', async () => {
    const started = Date.now();
    await expect(clientCertificateVerdict(socket(), AbortSignal.timeout(5000))).resolves.toBeUndefined();
    expect(Date.now() - started).toBeGreaterThanOrEqual(VERDICT_WAIT_MS - 20);
    expect(Date.now() - started).toBeLessThan(VERDICT_WAIT_MS + 500);
  });

  it('stops waiting when the probe runs out of time', async () => {
    const controller = new AbortController();
    controller.abort();
    const started = Date.now();
    await expect(clientCertificateVerdict(socket(), controller.signal)).resolves.toBeUndefined();
    expect(Date.now() - started).toBeLessThan(100);
  });
});
