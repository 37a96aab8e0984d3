import t from 'tap';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { compactVerify, decodeProtectedHeader, importSPKI } from 'jose';
import { canonicalJson, decodePassport, signPassport } from '../../src/identity/passport.js';

const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const X5U = 'https://cert.example.org/shaken.pem';
const NOW_MS = 1_700_000_000_750; // injected clock

function signed(overrides: Partial<Parameters<typeof signPassport>[0]> = {}) {
  return signPassport({
    level: 'A',
    origTn: '15550001111',
    destTn: '15551234567',
    iat: Math.floor(NOW_MS / 1000),
    origid: '123e4567-e89b-12d3-a456-426655440000',
    key: privateKey,
    x5u: X5U,
    ...overrides,
  });
}

t.test('verifies with an independent implementation (jose compactVerify, public key only)', async (t) => {
  const p = signed();
  const spki = publicKey.export({ format: 'pem', type: 'spki' }).toString();
  const verifyKey = await importSPKI(spki, 'ES256');
  const { payload, protectedHeader } = await compactVerify(p.token, verifyKey, { algorithms: ['ES256'] });
  t.same(protectedHeader, { alg: 'ES256', ppt: 'shaken', typ: 'passport', x5u: X5U });
  t.same(JSON.parse(new TextDecoder().decode(payload)), {
    attest: 'A',
    dest: { tn: ['15551234567'] },
    iat: 1_700_000_000,
    orig: { tn: '15550001111' },
    origid: '123e4567-e89b-12d3-a456-426655440000',
  });
  t.same(decodeProtectedHeader(p.token), protectedHeader);
});

t.test('a tampered token or another key does not verify', async (t) => {
  const p = signed();
  const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
  const otherKey = await importSPKI(other.export({ format: 'pem', type: 'spki' }).toString(), 'ES256');
  await t.rejects(compactVerify(p.token, otherKey));
  const [h, , s] = p.token.split('.');
  const forged = `${h}.${Buffer.from('{"attest":"A"}').toString('base64url')}.${s}`;
  const goodKey = await importSPKI(publicKey.export({ format: 'pem', type: 'spki' }).toString(), 'ES256');
  await t.rejects(compactVerify(forged, goodKey));
});

t.test('exact encoding: sorted keys, no whitespace, base64url without padding, raw 64-byte R||S', async (t) => {
  const p = signed();
  const [h, c, s] = p.token.split('.');
  t.equal(Buffer.from(h ?? '', 'base64url').toString(), '{"alg":"ES256","ppt":"shaken","typ":"passport","x5u":"https://cert.example.org/shaken.pem"}');
  t.equal(
    Buffer.from(c ?? '', 'base64url').toString(),
    '{"attest":"A","dest":{"tn":["15551234567"]},"iat":1700000000,"orig":{"tn":"15550001111"},"origid":"123e4567-e89b-12d3-a456-426655440000"}',
  );
  for (const part of [h, c, s]) t.match(part, /^[A-Za-z0-9_-]+$/, 'base64url alphabet, no padding');
  t.equal(Buffer.from(s ?? '', 'base64url').length, 64, 'ES256 signature is 64 raw bytes, not DER');
});

t.test('Identity header value: token;info=<x5u>;alg=ES256;ppt=shaken (RFC 8224 §4.1)', async (t) => {
  const p = signed();
  t.equal(p.headerValue, `${p.token};info=<${X5U}>;alg=ES256;ppt=shaken`);
  const params = p.headerValue.split(';').slice(1);
  t.same(params, [`info=<${X5U}>`, 'alg=ES256', 'ppt=shaken']);
});

t.test('iat comes from the injected clock (whole seconds, within one second)', async (t) => {
  const p = signed({ iat: Math.floor(NOW_MS / 1000) });
  t.ok(Math.abs(p.claims.iat * 1000 - NOW_MS) < 1000);
  t.ok(Number.isInteger(p.claims.iat));
});

t.test('every level signs; origid per call', async (t) => {
  for (const level of ['A', 'B', 'C'] as const) {
    const origid = randomUUID();
    const p = signed({ level, origid });
    t.equal(p.claims.attest, level);
    t.same(decodePassport(p.headerValue)?.claims, p.claims);
    t.equal(decodePassport(p.token)?.claims.origid, origid);
  }
});

t.test('inputs the caller should have validated throw TypeError', async (t) => {
  t.throws(() => signed({ origTn: '+15550001111' }), TypeError);
  t.throws(() => signed({ destTn: '1555,1234567' }), TypeError);
  t.throws(() => signed({ origid: 'not-a-uuid' }), TypeError);
  t.throws(() => signed({ iat: 1.5 }), TypeError);
  t.throws(() => signed({ level: 'D' as 'A' }), TypeError);
});

t.test('decodePassport rejects what is not a PASSporT', async (t) => {
  t.equal(decodePassport('A'), null);
  t.equal(decodePassport('a.b'), null);
  t.equal(decodePassport('!!.??.x'), null);
  t.equal(decodePassport(`${Buffer.from('[]').toString('base64url')}.${Buffer.from('{}').toString('base64url')}.x`), null);
});

t.test('canonicalJson sorts nested keys and drops undefined', async (t) => {
  t.equal(canonicalJson({ b: 1, a: { d: [2, { z: 1, y: 'x' }], c: undefined } }), '{"a":{"d":[2,{"y":"x","z":1}]},"b":1}');
});
