import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isIP } from 'node:net';
import { systemClock } from '../../src/clock';
import { ChainAnalyzer } from '../../src/pki/analyze-chain';
import { parseCertificate } from '../../src/pki/certificate';
import { CertificateCache } from '../../src/pki/certificate-cache';
import { SignatureVerifier } from '../../src/pki/signature';
import { TrustStore } from '../../src/pki/trust-store';
import type { VerifyFailureReason } from '../../src/pki/verify-reasons';
import { systemResolver } from '../../src/probing/resolver';
import { createTlsProber } from '../../src/probing/tls-prober';
import { createCertificate, days, type TestCert } from '../support/pki';
import { buildTestPki, chainPem, type TestPki } from '../support/scenarios';
import { describeWithTool } from '../support/tools';

interface Case {
  readonly name: string;
  /** What both validators must say: 'ok' or the reason. */
  readonly expected: VerifyFailureReason | 'ok';
  readonly chain: TestCert[];
  readonly serverName: string;
  /** Milliseconds after the PKI's `now` to verify at (openssl -attime). */
  readonly later?: number;
}

/** OpenSSL's X509_V_ERR codes mapped to our reasons; the depth tells a missing intermediate from an untrusted root. */
function reasonFor(code: number, depth: number): VerifyFailureReason | `openssl error ${number}` {
  switch (code) {
    case 9: return 'not_yet_valid';
    case 10: return 'expired';
    case 7: return 'bad_signature';
    case 18: return 'self_signed';
    case 19: return 'untrusted_root';
    case 2: case 20: return depth === 0 ? 'missing_intermediate' : 'untrusted_root';
    case 24: case 79: return 'invalid_ca';
    case 62: case 64: return 'hostname_mismatch';
    default: return `openssl error ${code}`;
  }
}

async function opensslVerdict(dir: string, c: Case, pki: TestPki): Promise<{ ok: boolean; reason?: string }> {
  const [leaf, ...rest] = c.chain as [TestCert, ...TestCert[]];
  await writeFile(join(dir, 'leaf.pem'), leaf.pem);
  await writeFile(join(dir, 'untrusted.pem'), chainPem(...rest));
  const args = ['verify', '-x509_strict', '-purpose', 'sslserver', '-no-CApath', '-no-CAstore', '-CAfile', join(dir, 'root.pem')];
  if (rest.length > 0) args.push('-untrusted', join(dir, 'untrusted.pem'));
  args.push(isIP(c.serverName) === 0 ? '-verify_hostname' : '-verify_ip', c.serverName);
  args.push('-attime', String(Math.floor((pki.now.getTime() + (c.later ?? 0)) / 1000)), join(dir, 'leaf.pem'));
  const result = spawnSync('openssl', args, { encoding: 'utf8' });
  const output = `${result.stdout}${result.stderr}`;
  if (/: OK\s*$/.test(result.stdout)) return { ok: true };
  const error = /error (\d+) at (\d+) depth lookup/.exec(output);
  if (error === null) throw new Error(`unexpected openssl output: ${output}`);
  return { ok: false, reason: reasonFor(Number(error[1]), Number(error[2])) };
}

function startSServer(dir: string, name: string, chain: TestCert[]): Promise<{ port: number; child: ChildProcess }> {
  const [leaf, ...rest] = chain as [TestCert, ...TestCert[]];
  return (async () => {
    await writeFile(join(dir, `${name}.pem`), leaf.pem);
    await writeFile(join(dir, `${name}.key`), leaf.key.privateKeyPem);
    await writeFile(join(dir, `${name}-chain.pem`), chainPem(...rest));
    // -www: without it s_server serves stdin, and with stdin closed it drops the connection.
    const args = ['s_server', '-www', '-naccept', '1', '-accept', '127.0.0.1:0', '-cert', join(dir, `${name}.pem`), '-key', join(dir, `${name}.key`)];
    if (rest.length > 0) args.push('-cert_chain', join(dir, `${name}-chain.pem`));
    const child = spawn('openssl', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const port = await new Promise<number>((resolve, reject) => {
      const onData = (chunk: Buffer): void => {
        output += chunk.toString();
        const match = /ACCEPT\s+127\.0\.0\.1:(\d+)/.exec(output);
        if (match !== null) resolve(Number(match[1]));
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      child.once('exit', () => { reject(new Error(`s_server exited: ${output}`)); });
      setTimeout(() => { reject(new Error(`s_server did not listen within 5 s: ${output}`)); }, 5000).unref();
    });
    return { port, child };
  })();
}

/** Both must give the case's expected verdict; certexp may name more reasons than OpenSSL, which stops at the first. */
function compare(c: Case, theirs: { ok: boolean; reason?: string }, mine: { verified: boolean; reasons: readonly string[] }): string | undefined {
  const openssl = theirs.ok ? 'ok' : theirs.reason;
  const certexpAgrees = c.expected === 'ok' ? mine.verified : mine.reasons.includes(c.expected);
  if (openssl === c.expected && certexpAgrees) return undefined;
  return `${c.name}: expected ${c.expected}, openssl ${openssl}, certexp ${mine.verified ? 'ok' : mine.reasons.join(',')}`;
}

describeWithTool('openssl', 'openssl', 'verdicts agree with openssl verify', () => {
  let pki: TestPki;
  let dir: string;
  let cases: Case[];
  const analyzer = new ChainAnalyzer(new CertificateCache(), new SignatureVerifier());

  beforeAll(async () => {
    pki = await buildTestPki();
    dir = await mkdtemp(join(tmpdir(), 'certexp-openssl-'));
    await writeFile(join(dir, 'root.pem'), pki.root.pem);
    // Same name as the intermediate, another key; the forged leaf names the real intermediate's key
    // identifier, so both validators pick the real one as issuer and then find the signature wrong.
    const impostor = await createCertificate({ subjectCn: pki.intermediate.subjectCn, issuer: pki.root, ca: true, subjectKeyIdentifier: false });
    const intermediateKeyId = Buffer.from(parseCertificate(pki.intermediate.der).subjectKeyId ?? '', 'hex');
    const authorityKeyId = Buffer.concat([Buffer.from([0x30, intermediateKeyId.length + 2, 0x80, intermediateKeyId.length]), intermediateKeyId]);
    const forged = await createCertificate({
      subjectCn: 'localhost', issuer: impostor, dnsNames: ['localhost'],
      extraExtensions: [{ oid: '2.5.29.35', critical: false, valueDer: authorityKeyId }],
    });
    const underLeaf = await createCertificate({ subjectCn: 'localhost', issuer: pki.valid, dnsNames: ['localhost'] });
    cases = [
      { name: 'valid', expected: 'ok', chain: [pki.valid, pki.intermediate], serverName: 'localhost' },
      { name: 'valid, 91 days later', expected: 'expired', chain: [pki.valid, pki.intermediate], serverName: 'localhost', later: days(91) },
      { name: 'expired', expected: 'expired', chain: [pki.expired, pki.intermediate], serverName: 'localhost' },
      { name: 'not yet valid', expected: 'not_yet_valid', chain: [pki.notYetValid, pki.intermediate], serverName: 'localhost' },
      { name: 'not yet valid, 4 days later', expected: 'ok', chain: [pki.notYetValid, pki.intermediate], serverName: 'localhost', later: days(4) },
      { name: 'wrong name', expected: 'hostname_mismatch', chain: [pki.wrongName, pki.intermediate], serverName: 'localhost' },
      { name: 'self-signed', expected: 'self_signed', chain: [pki.selfSigned], serverName: 'localhost' },
      { name: 'missing intermediate', expected: 'missing_intermediate', chain: [pki.valid], serverName: 'localhost' },
      { name: 'untrusted private root', expected: 'untrusted_root', chain: [pki.untrustedLeaf, pki.otherIntermediate], serverName: 'localhost' },
      { name: 'untrusted private root presented', expected: 'untrusted_root', chain: [pki.untrustedLeaf, pki.otherIntermediate, pki.otherRoot], serverName: 'localhost' },
      { name: 'intermediate expiring first', expected: 'ok', chain: [pki.leafUnderShortIntermediate, pki.shortIntermediate], serverName: 'localhost' },
      { name: 'intermediate expired, 30 days later', expected: 'expired', chain: [pki.leafUnderShortIntermediate, pki.shortIntermediate], serverName: 'localhost', later: days(30) },
      { name: 'expired cross-signed root presented', expected: 'ok', chain: [pki.valid, pki.intermediate, pki.crossSignedRoot], serverName: 'localhost' },
      { name: 'IP SAN', expected: 'ok', chain: [pki.ipOnly, pki.intermediate], serverName: '127.0.0.1' },
      { name: 'IP SAN, DNS name asked', expected: 'hostname_mismatch', chain: [pki.ipOnly, pki.intermediate], serverName: 'localhost' },
      { name: 'wildcard', expected: 'ok', chain: [pki.wildcard, pki.intermediate], serverName: 'shop.example.test' },
      { name: 'wildcard, two labels deep', expected: 'hostname_mismatch', chain: [pki.wildcard, pki.intermediate], serverName: 'a.shop.example.test' },
      { name: 'forged signature', expected: 'bad_signature', chain: [forged, pki.intermediate], serverName: 'localhost' },
      { name: 'issued by a leaf', expected: 'invalid_ca', chain: [underLeaf, pki.valid, pki.intermediate], serverName: 'localhost' },
    ];
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  function ours(c: Case, chain: readonly Buffer[]): { verified: boolean; reasons: readonly string[] } {
    return analyzer.analyze({ chain, trust: new TrustStore([parseCertificate(pki.root.der)]), serverName: c.serverName, at: pki.now.getTime() + (c.later ?? 0) });
  }

  it('gives the same verdict on every generated chain, and the reason openssl names first', async () => {
    const disagreements: string[] = [];
    for (const c of cases) {
      const theirs = await opensslVerdict(dir, c, pki);
      const mine = ours(c, c.chain.map((x) => x.der));
      const disagreement = compare(c, theirs, mine);
      if (disagreement !== undefined) disagreements.push(disagreement);
    }
    expect(disagreements).toEqual([]);
  });

  it('gives the same verdicts when the chains are served by openssl s_server and probed over TLS', async () => {
    const prober = createTlsProber({ resolver: systemResolver, clock: systemClock });
    const disagreements: string[] = [];
    for (const [i, c] of cases.filter((x) => x.later === undefined).entries()) {
      const { port, child } = await startSServer(dir, `case${i}`, c.chain);
      try {
        const outcome = await prober({ host: '127.0.0.1', port, serverName: c.serverName }, AbortSignal.timeout(5000));
        if (!outcome.ok) throw new Error(`${c.name}: probe failed: ${outcome.reason} ${outcome.error}`);
        expect(outcome.chain.map((d) => d.toString('base64'))).toEqual(c.chain.map((x) => x.der.toString('base64')));
        const theirs = await opensslVerdict(dir, c, pki);
        const mine = ours(c, outcome.chain);
        const disagreement = compare(c, theirs, mine);
        if (disagreement !== undefined) disagreements.push(disagreement);
      } finally {
        child.kill();
      }
    }
    expect(disagreements).toEqual([]);
  });
});
