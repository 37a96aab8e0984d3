import t from 'tap';
import { generateKeyPairSync } from 'node:crypto';
import { IDENTITY_EXCLUDE, identityLegVariables, isSafeLegValue } from '../../src/identity/leg-variables.js';
import { signPassport } from '../../src/identity/passport.js';
import { planIdentity, type AttestationLevel, type IdentityMode, type IdentityPlan } from '../../src/identity/plan.js';

const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const X5U = 'https://cert.example.org/shaken.pem';

const plan = (mode: IdentityMode, level: AttestationLevel | null, header: string | null = null): IdentityPlan =>
  planIdentity({
    carrier: { identityMode: mode, attestationHeader: header },
    level,
    callerIdDigits: '15550001111',
    tenantOwnsCallerId: true,
    defaults: { mode: 'header', header: 'P-Attestation-Indicator' },
    verifyOwnership: false,
  });

const passportFor = (level: AttestationLevel) =>
  signPassport({ level, origTn: '15550001111', destTn: '15551234567', iat: 1_700_000_000, origid: '123e4567-e89b-12d3-a456-426655440000', key: privateKey, x5u: X5U });

/** Render as the dial string's per-leg block, the way 4c_25 / 4d_14 sent it. */
const block = (vars: readonly (readonly [string, string])[]) => `[${vars.map(([n, v]) => `${n}=${v}`).join(',')}]`;

t.test('header mode: one custom header with the level', async (t) => {
  for (const level of ['A', 'B', 'C'] as const) {
    const r = identityLegVariables(plan('header', level));
    t.same(r, { ok: true, variables: [['sip_h_P-Attestation-Indicator', level]] }, level);
  }
  t.same(identityLegVariables(plan('header', 'B', 'X-Attest')), { ok: true, variables: [['sip_h_X-Attest', 'B']] });
});

t.test('header mode named Identity (any case): canonical sip_h_Identity plus the exclude, same block', async (t) => {
  for (const name of ['Identity', 'identity', 'IDENTITY']) {
    const r = identityLegVariables(plan('header', 'A', name));
    t.same(r, { ok: true, variables: [['sip_h_Identity', 'A'], ['exclude_outgoing_extra_header', '^sip_h_Identity$']] }, name);
  }
});

t.test('passport mode: sip_h_Identity=<value> then the exclude, exactly the 4c_25 shape', async (t) => {
  const p = passportFor('B');
  const r = identityLegVariables(plan('passport', 'B'), p);
  t.same(r, { ok: true, variables: [['sip_h_Identity', p.headerValue], IDENTITY_EXCLUDE] });
  if (r.ok) {
    const rendered = block(r.variables);
    t.match(rendered, /^\[sip_h_Identity=[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+;info=<https:\/\/cert\.example\.org\/shaken\.pem>;alg=ES256;ppt=shaken,exclude_outgoing_extra_header=\^sip_h_Identity\$\]$/);
    t.equal(rendered.split(',').length, 2, 'exactly one comma: the separator between the two variables');
  }
});

t.test('passport mode without a PASSporT, or with another level, is identity_unavailable', async (t) => {
  t.match(identityLegVariables(plan('passport', 'A')), { ok: false, code: 'identity_unavailable' });
  t.match(identityLegVariables(plan('passport', 'A'), passportFor('C')), { ok: false, code: 'identity_unavailable' });
});

t.test('none mode or no level: nothing at all', async (t) => {
  for (const mode of ['header', 'passport', 'none'] as const) {
    t.same(identityLegVariables(plan(mode, null), passportFor('A')), { ok: true, variables: [] }, `${mode} null`);
  }
  for (const level of ['A', 'B', 'C'] as const) {
    t.same(identityLegVariables(plan('none', level)), { ok: true, variables: [] }, `none ${level}`);
  }
});

t.test('a value unsafe in the dial string is refused, never quoted', async (t) => {
  const p = passportFor('A');
  const evil = { ...p, headerValue: `${p.token};info=<https://x.example/a,b>;alg=ES256;ppt=shaken` };
  t.match(identityLegVariables(plan('passport', 'A'), evil), { ok: false, code: 'unsafe_dial_value', variable: 'sip_h_Identity' });
  const forged: IdentityPlan = { ...plan('header', 'A'), header: 'X-A]sofia/gateway/evil/1' };
  t.match(identityLegVariables(forged), { ok: false, code: 'unsafe_dial_value' });
});

t.test('isSafeLegValue', async (t) => {
  for (const v of ['A', '^sip_h_Identity$', 'a.b.c;info=<https://x.example/c.pem>;alg=ES256;ppt=shaken', 'x=y']) t.equal(isSafeLegValue(v), true, v);
  for (const v of ['', 'a,b', 'a]b', 'a[b', 'a{b', 'a}b', 'a|b', 'a b', 'a\tb', 'a\r\nb', 'a"b', "a'b", 'a\\b', '^^:a', 'é', 'x'.repeat(2049), 'reload mod_event_socket', 'MOD_EVENT_SOCKET']) {
    t.equal(isSafeLegValue(v), false, JSON.stringify(v));
  }
});
