import t from 'tap';
import { generateKeyPairSync } from 'node:crypto';
import { compactVerify } from 'jose';
import { identityForCandidate } from '../../src/identity/candidate-identity.js';
import type { SigningKeys } from '../../src/identity/keys.js';
import { planIdentity, type AttestationLevel, type IdentityMode } from '../../src/identity/plan.js';

const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const X5U = 'https://cert.example.org/acme.pem';
const keys = (withKey: boolean): SigningKeys => ({
  keyFor: (tenantId) => (withKey && tenantId === 'acme' ? { key: pair.privateKey, x5u: X5U, owner: 'acme' } : undefined),
  hasGlobal: false,
  tenantIds: withKey ? ['acme'] : [],
});
const NOW_MS = 1_800_000_000_400;
const ORIGID = '0b9c6a8e-5f0e-4f49-9d3a-2c1a4e7b8d90';

const plan = (mode: IdentityMode, level: AttestationLevel | null, owned = true) =>
  planIdentity({
    carrier: { identityMode: mode, attestationHeader: null },
    level,
    callerIdDigits: '15550001111',
    tenantOwnsCallerId: owned,
    defaults: { mode: 'header', header: 'P-Attestation-Indicator' },
    verifyOwnership: true,
  });

const base = { keys: keys(true), tenantId: 'acme', origTn: '15550001111', destTn: '15551234567', nowMs: NOW_MS, origid: ORIGID };

t.test('passport: signs with the tenant key, verifies, claims from the call', async (t) => {
  const r = identityForCandidate({ ...base, plan: plan('passport', 'A', false) });
  t.equal(r.ok, true);
  if (!r.ok || r.passport === null) return;
  t.equal(r.plan.downgraded, true);
  const { payload } = await compactVerify(r.passport.token, pair.publicKey);
  t.same(JSON.parse(new TextDecoder().decode(payload)), {
    attest: 'B', dest: { tn: ['15551234567'] }, iat: 1_800_000_000, orig: { tn: '15550001111' }, origid: ORIGID,
  });
  t.same(r.variables, [['sip_h_Identity', r.passport.headerValue], ['exclude_outgoing_extra_header', '^sip_h_Identity$']]);
});

t.test('passport: a PASSporT already signed for the call is reused when the level matches', async (t) => {
  const first = identityForCandidate({ ...base, plan: plan('passport', 'B') });
  if (!first.ok) return t.fail('first failed');
  const second = identityForCandidate({ ...base, plan: plan('passport', 'B'), keys: keys(false), reuse: first.passport });
  t.equal(second.ok && second.passport, first.passport);
});

t.test('passport without a key for the tenant is identity_unavailable', async (t) => {
  t.match(identityForCandidate({ ...base, keys: keys(false), plan: plan('passport', 'A') }), { ok: false, code: 'identity_unavailable' });
  t.match(identityForCandidate({ ...base, tenantId: 'other', plan: plan('passport', 'A') }), { ok: false, code: 'identity_unavailable' });
});

t.test('bad call data never throws: identity_unavailable', async (t) => {
  t.match(identityForCandidate({ ...base, origTn: '', plan: plan('passport', 'A') }), { ok: false, code: 'identity_unavailable' });
  t.match(identityForCandidate({ ...base, origid: 'x', plan: plan('passport', 'A') }), { ok: false, code: 'identity_unavailable' });
});

t.test('header and none modes need no key', async (t) => {
  t.same(identityForCandidate({ ...base, keys: keys(false), plan: plan('header', 'C') }), {
    ok: true, plan: plan('header', 'C'), variables: [['sip_h_P-Attestation-Indicator', 'C']], passport: null,
  });
  t.match(identityForCandidate({ ...base, keys: keys(false), plan: plan('none', 'A') }), { ok: true, variables: [], passport: null });
  t.match(identityForCandidate({ ...base, keys: keys(false), plan: plan('passport', null) }), { ok: true, variables: [], passport: null });
});
