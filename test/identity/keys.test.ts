import t from 'tap';
import { generateKeyPairSync, sign, verify } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { IdentityKeyError } from '../../src/errors.js';
import { checkX5u, loadSigningKeys } from '../../src/identity/keys.js';
import { ConfigSchema } from '../../src/config/schema.js';

const identity = (overrides: Record<string, unknown>) => ConfigSchema.parse({ identity: overrides }).identity;

function pem(kind: 'p256' | 'p384' | 'rsa' | 'ed25519' | 'public'): string {
  if (kind === 'rsa') return generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  if (kind === 'ed25519') return generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  const pair = generateKeyPairSync('ec', { namedCurve: kind === 'p384' ? 'P-384' : 'P-256' });
  if (kind === 'public') return pair.publicKey.export({ format: 'pem', type: 'spki' }).toString();
  return pair.privateKey.export({ format: 'pem', type: kind === 'p256' ? 'sec1' : 'pkcs8' }).toString();
}

/** The IdentityKeyError `fn` throws; anything else (or nothing) fails the test by throwing. */
function keyError(fn: () => unknown): IdentityKeyError {
  try {
    fn();
  } catch (err) {
    if (err instanceof IdentityKeyError) return err;
    throw err;
  }
  throw new Error('expected an IdentityKeyError');
}

t.test('global and per-tenant keys load; keyFor prefers the tenant', async (t) => {
  const dir = t.testdir();
  const globalFile = join(dir, 'global.pem');
  const tenantFile = join(dir, 'acme.pem');
  writeFileSync(globalFile, pem('p256'));
  writeFileSync(tenantFile, generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' }));
  const keys = loadSigningKeys(
    identity({
      default_mode: 'passport',
      signing: { key_file: globalFile, x5u: 'https://cert.example.org/global.pem' },
      tenants: { acme: { key_file: tenantFile, x5u: 'https://cert.example.org/acme.pem' } },
    }),
    (p) => readFileSync(p),
  );
  t.equal(keys.hasGlobal, true);
  t.same(keys.tenantIds, ['acme']);
  t.equal(keys.keyFor('acme')?.owner, 'acme');
  t.equal(keys.keyFor('acme')?.x5u, 'https://cert.example.org/acme.pem');
  t.equal(keys.keyFor('other')?.owner, 'global');
  t.equal(keys.keyFor(null)?.owner, 'global');
  const k = keys.keyFor('acme');
  t.ok(k);
  if (k) {
    const sig = sign('sha256', Buffer.from('x'), { key: k.key, dsaEncoding: 'ieee-p1363' });
    t.equal(sig.length, 64);
    t.ok(verify('sha256', Buffer.from('x'), { key: k.key, dsaEncoding: 'ieee-p1363' }, sig));
  }
});

t.test('no keys: keyFor is undefined (header mode needs none)', async (t) => {
  const keys = loadSigningKeys(identity({}), () => {
    throw new Error('must not read');
  });
  t.equal(keys.keyFor('acme'), undefined);
  t.equal(keys.hasGlobal, false);
});

t.test('tenant-only keys: other tenants have none', async (t) => {
  const dir = t.testdir();
  writeFileSync(join(dir, 'a.pem'), pem('p256'));
  const keys = loadSigningKeys(
    identity({ default_mode: 'passport', tenants: { acme: { key_file: join(dir, 'a.pem'), x5u: 'https://c.example/a.pem' } } }),
    (p) => readFileSync(p),
  );
  t.equal(keys.keyFor('other'), undefined);
});

t.test('start-up errors name the tenant (or global) and the file', async (t) => {
  const dir = t.testdir();
  const files = { p384: 'p384.pem', rsa: 'rsa.pem', ed25519: 'ed.pem', public: 'pub.pem', good: 'good.pem', junk: 'junk.pem' } as const;
  writeFileSync(join(dir, files.p384), pem('p384'));
  writeFileSync(join(dir, files.rsa), pem('rsa'));
  writeFileSync(join(dir, files.ed25519), pem('ed25519'));
  writeFileSync(join(dir, files.public), pem('public'));
  writeFileSync(join(dir, files.good), pem('p256'));
  writeFileSync(join(dir, files.junk), 'not a key at all');
  const read = (p: string) => readFileSync(p);
  const x5u = 'https://cert.example.org/c.pem';
  const rows: { name: string; tenant: string; file: string; reason: string; x5u?: string; global?: boolean }[] = [
    { name: 'missing file', tenant: 'acme', file: join(dir, 'missing.pem'), reason: 'unreadable' },
    { name: 'directory', tenant: 'acme', file: dir, reason: 'unreadable' },
    { name: 'not PEM', tenant: 'acme', file: join(dir, files.junk), reason: 'not_private_key' },
    { name: 'public key', tenant: 'acme', file: join(dir, files.public), reason: 'not_private_key' },
    { name: 'P-384', tenant: 'acme', file: join(dir, files.p384), reason: 'wrong_curve' },
    { name: 'RSA', tenant: 'acme', file: join(dir, files.rsa), reason: 'wrong_key_type' },
    { name: 'Ed25519', tenant: 'acme', file: join(dir, files.ed25519), reason: 'wrong_key_type' },
    { name: 'global missing', tenant: 'global', file: join(dir, 'nope.pem'), reason: 'unreadable', global: true },
    { name: 'x5u with comma', tenant: 'acme', file: join(dir, files.good), reason: 'x5u_invalid', x5u: 'https://c.example/a,b.pem' },
    { name: 'x5u http', tenant: 'acme', file: join(dir, files.good), reason: 'x5u_invalid', x5u: 'http://c.example/a.pem' },
    { name: 'x5u bracket', tenant: 'global', file: join(dir, files.good), reason: 'x5u_invalid', x5u: 'https://c.example/a]b', global: true },
  ];
  for (const row of rows) {
    const entry = { key_file: row.file, x5u: row.x5u ?? x5u };
    const cfg = identity(row.global ? { signing: entry } : { tenants: { [row.tenant]: entry } });
    const err = keyError(() => loadSigningKeys(cfg, read));
    t.equal(err.code, 'identity_key_invalid', row.name);
    t.match(err.fields, { tenant: row.tenant, file: row.file, reason: row.reason }, row.name);
    t.match(err.message, row.tenant === 'global' ? /global/ : /tenant "acme"/, row.name);
    t.ok(err.message.includes(row.file), `${row.name}: message names the file`);
    t.notMatch(err.message, /BEGIN|PRIVATE KEY/, `${row.name}: no key material in the message`);
  }
});

t.test('passport default with no key at all is a start-up error', async (t) => {
  const err = keyError(() => loadSigningKeys(identity({ default_mode: 'passport' }), () => ''));
  t.match(err.fields, { tenant: 'global', reason: 'no_key_configured' });
});

t.test('checkX5u', async (t) => {
  const ok = ['https://cert.example.org/shaken.pem', 'https://c.example:8443/a/b.cer?x=1&y=2'];
  const bad = [
    'http://c.example/a.pem', 'ftp://c.example/a', 'not a url', 'https://c.example/a b', 'https://c.example/a|b',
    'https://c.example/{x}', 'https://c.example/a"b', "https://c.example/a'b", 'https://c.example/a^b', 'https://c.example/a<b>',
    'https://c.example/a\tb', 'https://c.example/\u00e9', 'https://c.example/mod_event_socket',
  ];
  for (const u of ok) t.equal(checkX5u(u), null, u);
  for (const u of bad) t.type(checkX5u(u), 'string', JSON.stringify(u));
});
