import t from 'tap';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { isValidPhoneNumber } from 'libphonenumber-js';
import { DEMO_TENANTS, writeDemoReplica } from '../../src/replica/demo.js';
import { openReplica } from '../../src/replica/database.js';
import { createQueries } from '../../src/replica/queries.js';
import { ConfigSchema } from '../../src/config/schema.js';
import { decide, decideOptionsFromConfig } from '../../src/routing/decide.js';
import { buildRouteIndex } from '../../src/routing/route-index.js';

const now = () => Date.UTC(2025, 5, 1);

function dump(path: string): string {
  const db = new Database(path, { readonly: true });
  try {
    const tables = ['carriers', 'outbound_routes', 'phone_numbers', 'campaigns', 'lead_lists', 'leads'];
    return JSON.stringify(tables.map((tb) => db.prepare(`SELECT * FROM ${tb} ORDER BY id`).all()));
  } finally {
    db.close();
  }
}

t.test('deterministic for a seed, different for another', async (t) => {
  const dir = t.testdir();
  writeDemoReplica(join(dir, 'a.db'), { leads: 500, seed: 7, now });
  writeDemoReplica(join(dir, 'b.db'), { leads: 500, seed: 7, now });
  writeDemoReplica(join(dir, 'c.db'), { leads: 500, seed: 8, now });
  t.equal(dump(join(dir, 'a.db')), dump(join(dir, 'b.db')));
  t.not(dump(join(dir, 'a.db')), dump(join(dir, 'c.db')));
});

t.test('realistic content', async (t) => {
  const path = join(t.testdir(), 'demo.db');
  const summary = writeDemoReplica(path, { now });
  t.match(summary, { tenants: 3, leads: 5000 });
  const r = openReplica(path, { busyTimeoutMs: 100 });
  t.teardown(() => r.close());
  const q = createQueries(r.db);
  const carriers = q.carriers();
  const routes = q.routes();

  t.ok(carriers.some((c) => c.tenantId === null && c.origin === 'platform'), 'platform carriers');
  t.ok(carriers.some((c) => c.tenantId !== null && c.origin === 'tenant'), 'tenant carriers');
  for (const status of ['active', 'disabled', 'archived']) t.ok(carriers.some((c) => c.status === status), `a ${status} carrier`);
  t.ok(carriers.some((c) => c.direction === 'inbound'), 'an inbound-only carrier');
  for (const f of [null, 'E164', '+E164', 'national']) t.ok(carriers.some((c) => c.callerIdFormat === f), `caller_id_format ${String(f)}`);
  t.ok(carriers.some((c) => c.stripPrefix !== null || c.addPrefix !== null), 'carrier strip/add rules');
  for (const c of carriers) t.match(c.name, /^[A-Za-z0-9_.-]+$/, `gateway name ${c.name}`);

  for (const p of ['1', '1212', '44', '4420', '33']) t.ok(routes.some((x) => x.matchType === 'prefix' && x.prefix === p), `prefix route ${p}`);
  t.ok(routes.some((x) => x.matchType === 'regex'), 'regex routes');
  t.ok(routes.some((x) => x.stripPrefix !== null || x.addPrefix !== null), 'route strip/add rules');
  const ties = routes.filter((x) => x.tenantId === 'tenant-acme' && x.prefix === '1' && x.priority === 20);
  t.ok(ties.length >= 2, 'a priority tie');
  for (const tenant of DEMO_TENANTS) t.ok(routes.some((x) => x.tenantId === tenant), `${tenant} has routes`);

  const db = r.db;
  const metas = db.prepare(`SELECT id, metadata, stir_shaken_attestation AS a FROM campaigns`).all() as { id: string; metadata: string | null; a: string | null }[];
  t.ok(metas.some((m) => m.metadata === null), 'a campaign without metadata');
  t.ok(metas.some((m) => m.metadata?.includes('carrier_id')), 'a campaign with a forced carrier');
  for (const a of ['A', 'B', 'C', null]) t.ok(metas.some((m) => m.a === a), `attestation ${String(a)}`);

  const lists = db.prepare(`SELECT caller_id FROM lead_lists`).all() as { caller_id: string }[];
  for (const l of lists) t.ok(isValidPhoneNumber(l.caller_id), `caller ID ${l.caller_id} valid`);
  const phones = db.prepare(`SELECT primary_phone AS p FROM leads`).all() as { p: string }[];
  t.equal(phones.length, 5000);
  t.equal(phones.filter((x) => !isValidPhoneNumber(x.p)).length, 0, 'every primary phone is valid E.164');
  t.ok(phones.some((x) => /[ ()-]/.test(x.p)), 'some carry formatting characters');
  t.ok(db.prepare(`SELECT 1 FROM leads WHERE id = 'lead-acme-0001'`).get(), 'readable fixed IDs');
});

t.test('the README examples route as described', async (t) => {
  const path = join(t.testdir(), 'demo.db');
  writeDemoReplica(path, { leads: 50, now });
  const r = openReplica(path, { busyTimeoutMs: 100 });
  t.teardown(() => r.close());
  const q = createQueries(r.db);
  const index = buildRouteIndex({ carriers: q.carriers(), routes: q.routes(), phoneNumbers: q.phoneNumbers() });
  const options = decideOptionsFromConfig(ConfigSchema.parse({}));
  const run = (campaignId: string, leadId: string) => decide({ campaignId, leadId }, q.callRecords(campaignId, leadId), index, options);

  const forced = run('camp-acme-forced', 'lead-acme-0001');
  t.match(forced, { ok: true, source: 'forced', forcedCarrier: { carrierId: 'carrier-acme-backup', outcome: 'used' } });

  const archived = run('camp-acme-archived', 'lead-acme-0001');
  t.match(archived, { ok: true, source: 'route', forcedCarrier: { carrierId: 'carrier-acme-old', outcome: 'carrier_archived' } });

  const nyc = run('camp-acme-routes', 'lead-acme-0001');
  t.match(nyc, { ok: true, source: 'route', destination: '12125550101', attestation: 'A' });
  t.equal(nyc.candidates[0]?.carrierName, 'acme-backup', 'the 1212 route wins at priority 5');
  t.ok(nyc.skipped.some((s) => s.reason === 'carrier_archived'), 'the archived platform carrier is skipped');

  for (const [camp, lead] of [['camp-acme-routes', 'lead-acme-0002'], ['camp-acme-routes', 'lead-acme-0003'], ['camp-acme-routes', 'lead-acme-0004'], ['camp-acme-noattest', 'lead-acme-0005'], ['camp-globex-routes', 'lead-globex-0001'], ['camp-globex-forced-platform', 'lead-globex-0002'], ['camp-initech-uk', 'lead-initech-0001']] as const) {
    t.match(run(camp, lead), { ok: true }, `${camp} / ${lead} routes`);
  }
});
