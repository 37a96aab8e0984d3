/**
 * `npm run bench:identity` — not a test. Measures, on one core (this process, one thread):
 *   1. PASSporTs signed per second (signPassport: canonical JSON, base64url, ES256 via node:crypto);
 *   2. the time identity adds to call setup per candidate: planIdentity + sign + leg variables
 *      (identityForCandidate), p50/p99/max over many calls, in passport mode (worst case) and header mode.
 * Targets: >= 5,000 signatures/s and p99 added <= 1 ms. Prints PASS/FAIL; exit code 1 on FAIL.
 */
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { identityForCandidate } from '../src/identity/candidate-identity.js';
import type { SigningKeys } from '../src/identity/keys.js';
import { signPassport } from '../src/identity/passport.js';
import { planIdentity, type IdentityMode } from '../src/identity/plan.js';

const TARGET_SIGNS_PER_SEC = 5_000;
const TARGET_P99_MS = 1;
const SIGN_SECONDS = 3;
const CALLS = 50_000;
const WARMUP = 5_000;

const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const x5u = 'https://cert.example.org/shaken.pem';
const keys: SigningKeys = { keyFor: () => ({ key: privateKey, x5u, owner: 'global' }), hasGlobal: true, tenantIds: [] };
const origid = randomUUID();

function signOnce(i: number): string {
  return signPassport({
    level: 'A', origTn: '15550001111', destTn: String(15551000000 + (i % 1_000_000)), iat: 1_700_000_000 + i,
    origid, key: privateKey, x5u,
  }).token;
}

function signRate(): number {
  for (let i = 0; i < WARMUP; i++) signOnce(i);
  let n = 0;
  const start = process.hrtime.bigint();
  const until = start + BigInt(SIGN_SECONDS) * 1_000_000_000n;
  let now = start;
  while (now < until) {
    for (let j = 0; j < 100; j++) signOnce(n++);
    now = process.hrtime.bigint();
  }
  return n / (Number(now - start) / 1e9);
}

function perCall(mode: IdentityMode): { p50: number; p99: number; max: number } {
  const samples = new Float64Array(CALLS);
  const run = (i: number) => {
    const plan = planIdentity({
      carrier: { identityMode: mode, attestationHeader: null },
      level: i % 3 === 0 ? 'A' : 'B',
      callerIdDigits: '15550001111',
      tenantOwnsCallerId: i % 2 === 0,
      defaults: { mode: 'header', header: 'P-Attestation-Indicator' },
      verifyOwnership: true,
    });
    const r = identityForCandidate({
      plan, keys, tenantId: 'acme', origTn: '15550001111', destTn: '15551234567', nowMs: 1_700_000_000_000 + i, origid: randomUUID(),
    });
    if (!r.ok) throw new Error(`identity failed: ${r.code} ${r.message}`);
  };
  for (let i = 0; i < WARMUP; i++) run(i);
  for (let i = 0; i < CALLS; i++) {
    const t0 = process.hrtime.bigint();
    run(i);
    samples[i] = Number(process.hrtime.bigint() - t0) / 1e6;
  }
  samples.sort();
  const at = (q: number) => samples[Math.min(CALLS - 1, Math.floor(q * CALLS))] ?? NaN;
  return { p50: at(0.5), p99: at(0.99), max: samples[CALLS - 1] ?? NaN };
}

const rate = signRate();
const passport = perCall('passport');
const header = perCall('header');

const fmt = (n: number) => n.toFixed(3);
console.log(`node ${process.version} ${process.arch}`);
console.log(`signatures/s (one core, ${SIGN_SECONDS} s): ${Math.round(rate)}  target >= ${TARGET_SIGNS_PER_SEC}`);
console.log(`added per call, passport mode (plan+sign+vars, ${CALLS} calls): p50 ${fmt(passport.p50)} ms  p99 ${fmt(passport.p99)} ms  max ${fmt(passport.max)} ms  target p99 <= ${TARGET_P99_MS} ms`);
console.log(`added per call, header mode   (plan+vars, ${CALLS} calls):      p50 ${fmt(header.p50)} ms  p99 ${fmt(header.p99)} ms  max ${fmt(header.max)} ms`);
const pass = rate >= TARGET_SIGNS_PER_SEC && passport.p99 <= TARGET_P99_MS && header.p99 <= TARGET_P99_MS;
console.log(pass ? 'PASS' : 'FAIL');
if (!pass) process.exitCode = 1;
