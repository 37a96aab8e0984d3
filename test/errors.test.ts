/**
 * The error codes are a contract (logs, metrics, hangup causes, explain): unique, classes named for
 * themselves, and every code documented in README.
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import {
  CALL_ERROR_CODES, CARRIER_REJECT_REASONS, ROUTE_SKIP_REASONS, SYSTEM_ERROR_CODES,
  CallError, CallrouterError, ConfigError, IdentityKeyError, ListenError, ReplicaError,
} from '../src/errors.js';
import { DEFAULT_HANGUP_CAUSES } from '../src/call/outcome.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

t.test('codes are unique across the families (a code means one thing)', async (t) => {
  const all = [
    ...Object.keys(CALL_ERROR_CODES), ...Object.keys(CARRIER_REJECT_REASONS),
    ...Object.keys(ROUTE_SKIP_REASONS).filter((k) => !(k in CARRIER_REJECT_REASONS)), ...Object.keys(SYSTEM_ERROR_CODES),
  ];
  t.equal(new Set(all).size, all.length);
  for (const code of all) t.match(code, /^[a-z][a-z0-9_]*$/, `${code} is snake_case`);
});

t.test('every code is listed in README', async (t) => {
  for (const family of [CALL_ERROR_CODES, CARRIER_REJECT_REASONS, ROUTE_SKIP_REASONS, SYSTEM_ERROR_CODES]) {
    for (const code of Object.keys(family)) t.ok(readme.includes(`\`${code}\``), `${code} in README`);
  }
});

t.test('every call error code has a default hangup cause in the README table', async (t) => {
  for (const [code, cause] of Object.entries(DEFAULT_HANGUP_CAUSES)) {
    const row = readme.split('\n').find((l) => l.startsWith('|') && l.includes(`\`${code}\``) && /[A-Z_]{5,}/.test(l));
    t.ok(row?.includes(cause), `${code} → ${cause}`);
  }
});

t.test('classes carry a literal name equal to the class name, and their code', async (t) => {
  const cases: [CallrouterError, string, string][] = [
    [new CallError('no_route', 'x'), 'CallError', 'no_route'],
    [new ConfigError(['a: b']), 'ConfigError', 'config_invalid'],
    [new ReplicaError('replica_schema_newer', 'x'), 'ReplicaError', 'replica_schema_newer'],
    [new IdentityKeyError('x'), 'IdentityKeyError', 'identity_key_invalid'],
    [new ListenError('x'), 'ListenError', 'listen_failed'],
  ];
  for (const [err, name, code] of cases) {
    t.equal(err.name, name);
    t.equal(err.constructor.name, name);
    t.equal(err.code, code);
    t.ok(err instanceof CallrouterError && err instanceof Error);
  }
  const cause = new Error('inner');
  t.equal(new CallError('internal_error', 'wrap', {}, { cause }).cause, cause, '{ cause } is kept');
});
