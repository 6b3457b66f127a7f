import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../../src/clock';
import { ChainAnalyzer } from '../../src/pki/analyze-chain';
import { parseCertificate } from '../../src/pki/certificate';
import { CertificateCache } from '../../src/pki/certificate-cache';
import { SignatureVerifier } from '../../src/pki/signature';
import { TrustStore } from '../../src/pki/trust-store';
import type { VerifyFailureReason } from '../../src/pki/verify-reasons';
import { systemResolver } from '../../src/probing/resolver';
import { createTlsProber } from '../../src/probing/tls-prober';
import type { TestCert } from '../support/pki';
import { chainPem, type TestPki } from '../support/scenarios';
import { startSServer } from '../support/s-server';
import { describeWithTool } from '../support/tools';
import { buildConformanceCases, type ConformanceCase } from './cases';

/** OpenSSL's X509_V_ERR codes mapped to our reasons; the depth tells a missing intermediate from an untrusted root. */
function reasonFor(code: number, depth: number): VerifyFailureReason | `openssl error ${number}` {
  switch (code) {
    case 9: return 'not_yet_valid';
    case 10: return 'expired';
    case 7: return 'bad_signature';
    case 18: return 'self_signed';
    case 19: return 'untrusted_root';
    case 2: case 20: return depth === 0 ? 'missing_intermediate' : 'untrusted_root';
    case 22: return 'chain_too_long';
    case 24: case 79: return 'invalid_ca';
    case 25: return 'path_length_exceeded';
    case 26: return 'wrong_purpose';
    case 34: return 'unsupported_critical_extension';
    case 47: case 48: return 'name_constraint_violation';
    case 62: case 64: return 'hostname_mismatch';
    default: return `openssl error ${code}`;
  }
}

type Verdict = 'ok' | VerifyFailureReason | `openssl error ${number}`;

function opensslVerdict(dir: string, c: ConformanceCase, pki: TestPki): Promise<Verdict> {
  return (async () => {
    const [leaf, ...rest] = c.chain as [TestCert, ...TestCert[]];
    await writeFile(join(dir, 'leaf.pem'), leaf.pem);
    await writeFile(join(dir, 'untrusted.pem'), chainPem(...rest));
    await writeFile(join(dir, 'anchors.pem'), chainPem(...c.anchors));
    const args = ['verify', '-x509_strict', '-purpose', 'sslserver', '-no-CApath', '-no-CAstore', '-CAfile', join(dir, 'anchors.pem')];
    if (rest.length > 0) args.push('-untrusted', join(dir, 'untrusted.pem'));
    args.push(isIP(c.serverName) === 0 ? '-verify_hostname' : '-verify_ip', c.serverName);
    args.push('-attime', String(Math.floor((pki.now.getTime() + (c.later ?? 0)) / 1000)), join(dir, 'leaf.pem'));
    const result = spawnSync('openssl', args, { encoding: 'utf8' });
    if (/: OK\s*$/.test(result.stdout)) return 'ok';
    const output = `${result.stdout}${result.stderr}`;
    const error = /error (\d+) at (\d+) depth lookup/.exec(output);
    if (error === null) throw new Error(`${c.name}: unexpected openssl output: ${output}`);
    return reasonFor(Number(error[1]), Number(error[2]));
  })();
}

function expectedOpenssl(c: ConformanceCase): Verdict {
  return typeof c.openssl === 'string' ? c.openssl : c.openssl.says;
}

describeWithTool('openssl', 'openssl', 'verdicts against openssl verify -x509_strict -purpose sslserver', () => {
  let pki: TestPki;
  let cases: readonly ConformanceCase[];
  let dir: string;
  const analyzer = new ChainAnalyzer(new CertificateCache(), new SignatureVerifier());

  beforeAll(async () => {
    ({ pki, cases } = await buildConformanceCases());
    dir = await mkdtemp(join(tmpdir(), 'certexp-openssl-'));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  function ours(c: ConformanceCase, chain: readonly Buffer[]): readonly string[] {
    return analyzer.analyze({
      chain,
      trust: new TrustStore(c.anchors.map((a) => parseCertificate(a.der))),
      serverName: c.serverName,
      at: pki.now.getTime() + (c.later ?? 0),
      ...(c.policy === undefined ? {} : { policy: c.policy }),
      ...(c.maxDepth === undefined ? {} : { maxDepth: c.maxDepth }),
      ...(c.expectations === undefined ? {} : { expectations: c.expectations }),
    }).reasons;
  }

  it('gives openssl the verdict the table expects on every case, naming each deliberate difference', async () => {
    const wrong: string[] = [];
    for (const c of cases) {
      if (c.maxDepth !== undefined) continue; // openssl's depth limit is another knob; see the case's note
      const verdict = await opensslVerdict(dir, c, pki);
      if (verdict !== expectedOpenssl(c)) wrong.push(`${c.name}: openssl says ${verdict}, the table says ${expectedOpenssl(c)}`);
    }
    expect(wrong).toEqual([]);
  });

  it('agrees with openssl wherever the table names no difference', () => {
    const agreeing = cases.filter((c) => typeof c.openssl === 'string');
    const wrong = agreeing.filter((c) => {
      const mine = ours(c, c.chain.map((x) => x.der));
      return c.openssl === 'ok' ? mine.length > 0 : !mine.includes(c.openssl as VerifyFailureReason);
    }).map((c) => c.name);
    expect(agreeing.length).toBeGreaterThan(30);
    expect(wrong).toEqual([]);
  });

  it('gives the same verdicts when the chains are served by openssl s_server and probed over TLS', async () => {
    const wrong: string[] = [];
    const served = cases.filter((c) => c.later === undefined && c.maxDepth === undefined);
    for (const [i, c] of served.entries()) {
      const { port, child } = await startSServer(dir, `case${i}`, c.chain, { naccept: 1 });
      // A prober of its own per case: one that remembered an earlier case on a port the system
      // hands out again would take the new leaf for a changed chain and ask for a second,
      // recorded handshake, which an s_server that accepts one connection refuses.
      const prober = createTlsProber({ resolver: systemResolver, clock: systemClock });
      try {
        const outcome = await prober({ host: '127.0.0.1', port, serverName: c.serverName }, AbortSignal.timeout(5000));
        if (!outcome.ok) {
          wrong.push(`${c.name}: probe failed: ${outcome.reason} ${outcome.error}`);
          continue;
        }
        if (outcome.chain.some((der, k) => !der.equals(c.chain[k]?.der ?? Buffer.alloc(0)))) wrong.push(`${c.name}: chain differs from what was served`);
        const mine = ours(c, outcome.chain);
        if (mine.join(',') !== c.reasons.join(',')) wrong.push(`${c.name}: certexp ${mine.join(',') || 'ok'} over TLS`);
      } finally {
        child.kill();
      }
    }
    expect(wrong).toEqual([]);
  });
});
