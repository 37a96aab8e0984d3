import t from 'tap';
import { planIdentity, tenantOwnsCallerId, type AttestationLevel, type IdentityMode } from '../../src/identity/plan.js';

const DEFAULTS = { mode: 'header' as IdentityMode, header: 'P-Attestation-Indicator' };
const carrier = (identityMode: string | null = null, attestationHeader: string | null = null) => ({ identityMode, attestationHeader });

type Ownership = 'owned' | 'not_owned' | 'verify_off';
const LEVELS: (AttestationLevel | null)[] = ['A', 'B', 'C', null];
const MODES: IdentityMode[] = ['header', 'passport', 'none'];
const OWNERSHIP: Ownership[] = ['owned', 'not_owned', 'verify_off'];

t.test('every mode x level x ownership', async (t) => {
  for (const mode of MODES) {
    for (const level of LEVELS) {
      for (const own of OWNERSHIP) {
        const plan = planIdentity({
          carrier: carrier(mode),
          level,
          callerIdDigits: '15550001111',
          tenantOwnsCallerId: own === 'owned',
          defaults: DEFAULTS,
          verifyOwnership: own !== 'verify_off',
        });
        const downgraded = level === 'A' && own === 'not_owned';
        const effective = downgraded ? 'B' : level;
        const header = effective === null || mode === 'none' ? null : mode === 'passport' ? 'Identity' : 'P-Attestation-Indicator';
        t.same(
          plan,
          { mode, level: effective, requestedLevel: level, downgraded, header, problems: [] },
          `${mode} ${level ?? 'null'} ${own}`,
        );
      }
    }
  }
});

t.test('NULL columns take the config defaults', async (t) => {
  const plan = planIdentity({
    carrier: carrier(null, null), level: 'C', callerIdDigits: '15550001111', tenantOwnsCallerId: false,
    defaults: { mode: 'header', header: 'X-Attest' }, verifyOwnership: false,
  });
  t.equal(plan.mode, 'header');
  t.equal(plan.header, 'X-Attest');
  const passportDefault = planIdentity({
    carrier: carrier(null, null), level: 'C', callerIdDigits: '15550001111', tenantOwnsCallerId: false,
    defaults: { mode: 'passport', header: 'X-Attest' }, verifyOwnership: false,
  });
  t.equal(passportDefault.header, 'Identity');
});

t.test('per-carrier header name, Identity in any case is canonical', async (t) => {
  const rows: [string, string][] = [
    ['X-Attestation', 'X-Attestation'],
    ['Identity', 'Identity'],
    ['identity', 'Identity'],
    ['IDENTITY', 'Identity'],
    ['  P-Attest  ', 'P-Attest'],
  ];
  for (const [stored, want] of rows) {
    const plan = planIdentity({
      carrier: carrier('header', stored), level: 'B', callerIdDigits: '15550001111', tenantOwnsCallerId: true,
      defaults: DEFAULTS, verifyOwnership: false,
    });
    t.equal(plan.header, want, JSON.stringify(stored));
    t.same(plan.problems, []);
  }
});

t.test('empty level with verification never claims a downgrade; empty caller ID never earns A', async (t) => {
  const noCli = planIdentity({
    carrier: carrier('header'), level: 'A', callerIdDigits: '', tenantOwnsCallerId: true, defaults: DEFAULTS, verifyOwnership: true,
  });
  t.equal(noCli.level, 'B');
  t.equal(noCli.downgraded, true);
  const noCliVerifyOff = planIdentity({
    carrier: carrier('header'), level: 'A', callerIdDigits: '', tenantOwnsCallerId: false, defaults: DEFAULTS, verifyOwnership: false,
  });
  t.equal(noCliVerifyOff.level, 'A');
});

t.test('hostile identity_mode: fall back to the default and flag it', async (t) => {
  const rows: { stored: string | null; mode: IdentityMode; problem: boolean }[] = [
    { stored: 'PASSPORT', mode: 'passport', problem: false },
    { stored: ' none ', mode: 'none', problem: false },
    { stored: '', mode: 'header', problem: false },
    { stored: '   ', mode: 'header', problem: false },
    { stored: 'pasport', mode: 'header', problem: true },
    { stored: 'header]sofia/gateway/evil/1', mode: 'header', problem: true },
    { stored: 'none\r\napi reloadxml', mode: 'header', problem: true },
    { stored: 'x'.repeat(500), mode: 'header', problem: true },
  ];
  for (const row of rows) {
    const plan = planIdentity({
      carrier: carrier(row.stored), level: 'A', callerIdDigits: '15550001111', tenantOwnsCallerId: true,
      defaults: DEFAULTS, verifyOwnership: false,
    });
    t.equal(plan.mode, row.mode, JSON.stringify(row.stored));
    if (row.problem) {
      t.equal(plan.problems.length, 1);
      t.match(plan.problems[0], { field: 'identity_mode', code: 'identity_mode_invalid', fallback: 'header' });
      t.ok((plan.problems[0]?.value.length ?? 0) <= 64, 'stored value is cut');
    } else {
      t.same(plan.problems, []);
    }
  }
});

t.test('hostile attestation_header: fall back to the default header and flag it', async (t) => {
  const rows: [string, 'header_name_invalid' | 'header_name_reserved'][] = [
    ['X-Att,sip_h_X=1', 'header_name_invalid'],
    ['X-Att]sofia/gateway/evil', 'header_name_invalid'],
    ['X Att', 'header_name_invalid'],
    ['X-Att\r\nFrom: evil', 'header_name_invalid'],
    ['1Header', 'header_name_invalid'],
    ['X_Att', 'header_name_invalid'],
    ['f', 'header_name_invalid'],
    ['X-${uuid}', 'header_name_invalid'],
    ['Ünïcode', 'header_name_invalid'],
    ['From', 'header_name_reserved'],
    ['to', 'header_name_reserved'],
    ['Call-ID', 'header_name_reserved'],
    ['Contact', 'header_name_reserved'],
    ['P-Asserted-Identity', 'header_name_reserved'],
    ['Max-Forwards', 'header_name_reserved'],
  ];
  for (const [stored, code] of rows) {
    const plan = planIdentity({
      carrier: carrier('header', stored), level: 'B', callerIdDigits: '15550001111', tenantOwnsCallerId: true,
      defaults: DEFAULTS, verifyOwnership: false,
    });
    t.equal(plan.header, 'P-Attestation-Indicator', JSON.stringify(stored));
    t.match(plan.problems, [{ field: 'attestation_header', code, fallback: 'P-Attestation-Indicator' }]);
  }
});

t.test('a bad attestation_header on a passport or none carrier is not used and not flagged', async (t) => {
  for (const mode of ['passport', 'none']) {
    const plan = planIdentity({
      carrier: carrier(mode, 'From'), level: 'B', callerIdDigits: '15550001111', tenantOwnsCallerId: true,
      defaults: DEFAULTS, verifyOwnership: false,
    });
    t.same(plan.problems, [], mode);
  }
});

t.test('tenantOwnsCallerId compares E.164 digits', async (t) => {
  const numbers = ['+1 (555) 000-1111', '15550002222', 'junk', '+44 20 7946 0000'];
  t.equal(tenantOwnsCallerId('15550001111', numbers), true);
  t.equal(tenantOwnsCallerId('+15550002222', numbers), true);
  t.equal(tenantOwnsCallerId('442079460000', numbers), true);
  t.equal(tenantOwnsCallerId('15550003333', numbers), false);
  t.equal(tenantOwnsCallerId('', numbers), false);
  t.equal(tenantOwnsCallerId('15550001111', []), false);
  t.equal(tenantOwnsCallerId('5550001111', numbers), false, 'national digits are not the E.164 number');
  t.equal(tenantOwnsCallerId('1555abc0001111', ['1555abc0001111']), false, 'letters never match');
});
