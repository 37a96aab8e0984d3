import t from 'tap';
import { ConfigSchema } from '../../src/config/schema.js';
import { checkHeaderName, isIdentityHeader } from '../../src/identity/header-name.js';

t.test('checkHeaderName: one row per rule', async (t) => {
  const rows: [string, ReturnType<typeof checkHeaderName>][] = [
    ['P-Attestation-Indicator', { ok: true, name: 'P-Attestation-Indicator' }],
    ['X-SHAKEN', { ok: true, name: 'X-SHAKEN' }],
    ['identity', { ok: true, name: 'Identity' }],
    ['x', { ok: false, problem: 'header_name_invalid' }],
    ['X_Y', { ok: false, problem: 'header_name_invalid' }],
    ['-X', { ok: false, problem: 'header_name_invalid' }],
    [`X${'a'.repeat(64)}`, { ok: false, problem: 'header_name_invalid' }],
    ['via', { ok: false, problem: 'header_name_reserved' }],
    ['Remote-Party-ID', { ok: false, problem: 'header_name_reserved' }],
  ];
  for (const [name, want] of rows) t.same(checkHeaderName(name), want, name);
  t.equal(isIdentityHeader('IDENTITY'), true);
  t.equal(isIdentityHeader('Identity-Info'), false);
});

t.test('config refuses a reserved default_header', async (t) => {
  t.equal(ConfigSchema.safeParse({ identity: { default_header: 'From' } }).success, false);
  t.equal(ConfigSchema.safeParse({ identity: { default_header: 'Identity' } }).success, true);
  t.equal(ConfigSchema.parse({}).identity.default_header, 'P-Attestation-Indicator');
});
