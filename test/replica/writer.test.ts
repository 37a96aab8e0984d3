import t from 'tap';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openReplicaWriter } from '../../src/replica/writer.js';
import { buildReplica } from '../fixtures/replica.js';

const now = () => Date.UTC(2025, 0, 2, 3, 4, 5);

t.test('typed inserts apply defaults and store snake_case columns', async (t) => {
  const path = join(t.testdir(), 'r.db');
  const w = openReplicaWriter(path, { now });
  t.teardown(() => w.close());
  w.insertCarrier({ id: 'c1', name: 'gw1' });
  w.insertCarrier({ id: 'c2', name: 'gw2', tenantId: 't1' });
  w.insertRoute({ id: 'r1', tenantId: 't1', carrierId: 'c1', prefix: '1' });
  w.insertRoute({ id: 'r2', tenantId: 't1', carrierId: 'c1', regex: '^44' });
  w.insertCampaign({ id: 'camp', tenantId: 't1', metadata: { carrier_id: 'c1' } });
  w.insertLeadList({ id: 'l', tenantId: 't1', callerId: '+12125550100' });
  w.insertLead({ id: 'lead', tenantId: 't1', leadListId: 'l', primaryPhone: '+12125550111' });
  w.insertPhoneNumber({ id: 'n', tenantId: 't1', number: '+12125550199' });

  const row = (sql: string) => w.db.prepare(sql).get();
  t.match(row(`SELECT * FROM carriers WHERE id='c1'`), {
    tenant_id: null, type: 'sip_trunk', direction: 'outbound', status: 'active', origin: 'platform',
    updated_at: '2025-01-02T03:04:05.000Z',
  });
  t.match(row(`SELECT * FROM carriers WHERE id='c2'`), { tenant_id: 't1', origin: 'tenant' });
  t.match(row(`SELECT * FROM outbound_routes WHERE id='r1'`), { match_type: 'prefix', prefix: '1', priority: 100 });
  t.match(row(`SELECT * FROM outbound_routes WHERE id='r2'`), { match_type: 'regex', regex: '^44', prefix: null });
  t.match(row(`SELECT * FROM campaigns`), { name: 'camp', status: 'active', metadata: '{"carrier_id":"c1"}' });
  t.match(row(`SELECT * FROM leads`), { lead_list_id: 'l', primary_phone: '+12125550111' });
});

t.test('inserts are upserts; deleteAll and deleteById remove rows', async (t) => {
  const w = openReplicaWriter(join(t.testdir(), 'r.db'), { now });
  t.teardown(() => w.close());
  w.insertCarrier({ id: 'c1', name: 'gw1' });
  w.insertCarrier({ id: 'c1', name: 'gw1', status: 'archived' });
  t.equal((w.db.prepare(`SELECT status FROM carriers`).all() as unknown[]).length, 1);
  t.match(w.db.prepare(`SELECT status FROM carriers`).get(), { status: 'archived' });
  w.insertCarrier({ id: 'c2', name: 'gw2' });
  w.deleteById('carriers', 'c1');
  t.same(w.db.prepare(`SELECT id FROM carriers`).all(), [{ id: 'c2' }]);
  w.deleteAll('carriers');
  t.same(w.db.prepare(`SELECT id FROM carriers`).all(), []);
});

t.test('insertLeads writes a bulk iterable in one transaction', async (t) => {
  const w = openReplicaWriter(join(t.testdir(), 'r.db'), { now });
  t.teardown(() => w.close());
  function* gen() {
    for (let i = 0; i < 2000; i++) yield { id: `lead-${i}`, tenantId: 't1', leadListId: 'l', primaryPhone: `+1212555${String(i).padStart(4, '0')}` };
  }
  t.equal(w.insertLeads(gen()), 2000);
  t.match(w.db.prepare(`SELECT count(*) AS n FROM leads`).get(), { n: 2000 });
});

t.test('foreign keys are off: dangling references can be stored (replicas are untrusted data)', async (t) => {
  const w = openReplicaWriter(join(t.testdir(), 'r.db'), { now });
  t.teardown(() => w.close());
  t.doesNotThrow(() => w.insertRoute({ id: 'r', tenantId: 't1', carrierId: 'missing', prefix: '1' }));
});

t.test('journalMode delete gives a rollback-journal file', async (t) => {
  const w = openReplicaWriter(join(t.testdir(), 'r.db'), { journalMode: 'delete' });
  t.teardown(() => w.close());
  t.equal(w.db.pragma('journal_mode', { simple: true }), 'delete');
});

t.test('buildReplica fills tenant and lead-list defaults', async (t) => {
  const path = buildReplica(t.testdir(), {
    tenant: 'acme',
    carriers: [{ id: 'c1', name: 'gw1' }],
    routes: [{ id: 'r1', prefix: '1', carrierId: 'c1' }],
    campaigns: [{ id: 'camp' }],
    leadLists: [{ id: 'L', callerId: '+12125550100' }],
    leads: [{ id: 'lead1', primaryPhone: '+12125550111' }],
  });
  const db = new Database(path, { readonly: true });
  t.teardown(() => db.close());
  t.match(db.prepare(`SELECT * FROM outbound_routes`).get(), { tenant_id: 'acme' });
  t.match(db.prepare(`SELECT * FROM carriers`).get(), { tenant_id: null });
  t.match(db.prepare(`SELECT * FROM leads`).get(), { tenant_id: 'acme', lead_list_id: 'L' });
});
