import t from 'tap';
import { generateKeyPairSync } from 'node:crypto';
import { explainIdentity, identityLogFields } from '../../src/identity/explain.js';
import { signPassport } from '../../src/identity/passport.js';
import { planIdentity } from '../../src/identity/plan.js';

const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const defaults = { mode: 'header' as const, header: 'P-Attestation-Indicator' };

t.test('passport: mode, levels, downgrade, header and the decoded claims', async (t) => {
  const plan = planIdentity({
    carrier: { identityMode: 'passport', attestationHeader: null }, level: 'A', callerIdDigits: '15550001111',
    tenantOwnsCallerId: false, defaults, verifyOwnership: true,
  });
  const p = signPassport({
    level: 'B', origTn: '15550001111', destTn: '15551234567', iat: 1_700_000_000,
    origid: '123e4567-e89b-12d3-a456-426655440000', key: privateKey, x5u: 'https://cert.example.org/c.pem',
  });
  t.same(explainIdentity(plan, p), {
    mode: 'passport',
    level: 'B',
    requested_level: 'A',
    downgraded: true,
    header: 'Identity',
    problems: [],
    passport: {
      header: { alg: 'ES256', ppt: 'shaken', typ: 'passport', x5u: 'https://cert.example.org/c.pem' },
      claims: { attest: 'B', dest: { tn: ['15551234567'] }, iat: 1_700_000_000, orig: { tn: '15550001111' }, origid: '123e4567-e89b-12d3-a456-426655440000' },
      info: 'https://cert.example.org/c.pem',
    },
    error: null,
  });
  t.same(explainIdentity(plan, p.headerValue).passport, explainIdentity(plan, p).passport, 'a header value string works too');
});

t.test('header mode with a flagged carrier column; error passed through', async (t) => {
  const plan = planIdentity({
    carrier: { identityMode: 'bogus', attestationHeader: 'From' }, level: 'C', callerIdDigits: '15550001111',
    tenantOwnsCallerId: true, defaults, verifyOwnership: false,
  });
  const e = explainIdentity(plan, null, { code: 'identity_unavailable', message: 'x' });
  t.match(e, {
    mode: 'header', level: 'C', requested_level: 'C', downgraded: false, header: 'P-Attestation-Indicator', passport: null,
    error: { code: 'identity_unavailable' },
  });
  t.same(e.problems.map((p) => p.field), ['identity_mode', 'attestation_header']);
  t.doesNotThrow(() => JSON.stringify(e));
});

t.test('log fields carry mode and level', async (t) => {
  const plan = planIdentity({
    carrier: { identityMode: 'header', attestationHeader: null }, level: 'A', callerIdDigits: '15550001111',
    tenantOwnsCallerId: false, defaults, verifyOwnership: true,
  });
  t.same(identityLogFields(plan), {
    identity_mode: 'header', attestation: 'B', attestation_requested: 'A', attestation_downgraded: true, attestation_header: 'P-Attestation-Indicator',
  });
});
