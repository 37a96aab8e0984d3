/**
 * `explain` shows each carrier leg's STIR/SHAKEN: mode, level (and a downgrade), header name, and for
 * passport mode the PASSporT really signed with the configured key, decoded.
 */
import t from 'tap';
import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runExplain } from '../../src/cli/explain.js';
import { ConfigSchema } from '../../src/config/schema.js';
import { buildReplica } from '../fixtures/replica.js';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) }, out, err };
}

function world(dir: string) {
  const replica = buildReplica(dir, {
    carriers: [
      { id: 'c-hdr', name: 'gw_header' },
      { id: 'c-pp', name: 'gw_passport', identityMode: 'passport' },
      { id: 'c-none', name: 'gw_none', identityMode: 'none' },
      { id: 'c-ident', name: 'gw_identity', attestationHeader: 'Identity' },
    ],
    routes: [
      { id: 'r1', prefix: '1', carrierId: 'c-hdr', priority: 10 },
      { id: 'r2', prefix: '1', carrierId: 'c-pp', priority: 20 },
      { id: 'r3', prefix: '1', carrierId: 'c-none', priority: 30 },
      { id: 'r4', prefix: '1', carrierId: 'c-ident', priority: 40 },
    ],
    phoneNumbers: [{ id: 'n1', number: '+12125550100' }],
    campaigns: [{ id: 'campA', stirShakenAttestation: 'A' }, { id: 'campNone' }],
    leadLists: [
      { id: 'owned', callerId: '+1 212 555 0100' },
      { id: 'foreign', callerId: '+12125559999' },
    ],
    leads: [
      { id: 'lead-owned', leadListId: 'owned', primaryPhone: '+12125550111' },
      { id: 'lead-foreign', leadListId: 'foreign', primaryPhone: '+12125550111' },
    ],
  });
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const keyFile = join(dir, 'signing.pem');
  writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }));
  const config = (verify: boolean) =>
    ConfigSchema.parse({
      routing: { max_attempts: 4 },
      identity: { verify_caller_id_ownership: verify, signing: { key_file: keyFile, x5u: 'https://cert.example.org/sp.pem' } },
    });
  return { replica, config };
}

type Json = { candidates: { carrier_id: string; identity?: Record<string, any> }[] };

t.test('--json: each candidate carries its identity; passport decoded with claims', async (t) => {
  const { replica, config } = world(t.testdir());
  const c = capture();
  t.equal(await runExplain({ replica, campaign: 'campA', lead: 'lead-owned', json: true, config: config(true) }, c.io), 0);
  const j = JSON.parse(c.out.join('')) as Json;
  const by = new Map(j.candidates.map((x) => [x.carrier_id, x.identity]));
  t.match(by.get('c-hdr'), { mode: 'header', level: 'A', downgraded: false, header: 'P-Attestation-Indicator', passport: null });
  t.match(by.get('c-none'), { mode: 'none', level: 'A', header: null, passport: null });
  t.match(by.get('c-ident'), { mode: 'header', level: 'A', header: 'Identity' });
  const pp = by.get('c-pp')!;
  t.match(pp, { mode: 'passport', level: 'A', header: 'Identity', error: null });
  t.same(pp['passport'].header, { alg: 'ES256', ppt: 'shaken', typ: 'passport', x5u: 'https://cert.example.org/sp.pem' });
  t.equal(pp['passport'].claims.attest, 'A');
  t.same(pp['passport'].claims.dest, { tn: ['12125550111'] });
  t.same(pp['passport'].claims.orig, { tn: '12125550100' });
  t.match(pp['passport'].claims.origid, /^[0-9a-f-]{36}$/);
  t.equal(pp['passport'].info, 'https://cert.example.org/sp.pem');
});

t.test('ownership check: a caller ID that is not a tenant number is downgraded A → B, and shown', async (t) => {
  const { replica, config } = world(t.testdir());
  for (const [verify, level, downgraded] of [[true, 'B', true], [false, 'A', false]] as const) {
    const c = capture();
    t.equal(await runExplain({ replica, campaign: 'campA', lead: 'lead-foreign', json: true, config: config(verify) }, c.io), 0);
    const j = JSON.parse(c.out.join('')) as Json;
    for (const cand of j.candidates) t.match(cand.identity, { level, requested_level: 'A', downgraded }, `${cand.carrier_id} verify=${verify}`);
    const human = capture();
    await runExplain({ replica, campaign: 'campA', lead: 'lead-foreign', json: false, config: config(verify) }, human.io);
    t.equal(human.out.some((l) => l.includes('downgraded from A')), downgraded, 'the table says so');
    t.ok(human.out.some((l) => l.startsWith('PASSporT for c-pp')), 'decoded PASSporT line');
  }
});

t.test('a campaign without a level sends nothing in any mode', async (t) => {
  const { replica, config } = world(t.testdir());
  const c = capture();
  await runExplain({ replica, campaign: 'campNone', lead: 'lead-owned', json: true, config: config(false) }, c.io);
  const j = JSON.parse(c.out.join('')) as Json;
  for (const cand of j.candidates) t.match(cand.identity, { level: null, header: null, passport: null }, cand.carrier_id);
});

t.test('without config the explain JSON still has an identity per candidate (header mode default)', async (t) => {
  const { replica } = world(t.testdir());
  const c = capture();
  await runExplain({ replica, campaign: 'campA', lead: 'lead-owned', json: true }, c.io);
  const j = JSON.parse(c.out.join('')) as Json;
  t.match(j.candidates.find((x) => x.carrier_id === 'c-pp')!.identity, { mode: 'passport', passport: null, error: { code: 'identity_unavailable' } });
});
