import t from 'tap';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openReplica } from '../../src/replica/database.js';
import { createQueries, intOrNull, ROW_CACHE_ENTRIES, textOrNull } from '../../src/replica/queries.js';
import { MIGRATIONS, SCHEMA_VERSION } from '../../src/replica/schema.js';
import { openReplicaWriter } from '../../src/replica/writer.js';
import { buildReplica } from '../fixtures/replica.js';

const opts = { busyTimeoutMs: 50 };
const spec = {
  tenant: 'acme',
  carriers: [
    { id: 'c2', name: 'gw2', tenantId: 'acme', callerIdFormat: '+E164', remotePort: 5060, updatedAt: '2025-01-03T00:00:00Z' },
    { id: 'c1', name: 'gw1', updatedAt: '2025-01-01T00:00:00Z' },
  ],
  routes: [
    { id: 'r2', prefix: '44', carrierId: 'c2', priority: 20, updatedAt: '2025-01-05T00:00:00Z' },
    { id: 'r1', prefix: '1', carrierId: 'c1', priority: 10, stripPrefix: '1', addPrefix: '011', updatedAt: null },
  ],
  phoneNumbers: [{ id: 'n1', number: '+12125550199', carrierId: 'c1', capabilities: 'voice' }],
  campaigns: [{ id: 'camp', metadata: { carrier_id: 'c2' }, stirShakenAttestation: 'A' }],
  leadLists: [{ id: 'L', callerId: '+12125550100' }],
  leads: [{ id: 'lead', primaryPhone: '+12125550111' }],
};

t.test('maps rows to camelCase', async (t) => {
  const r = openReplica(buildReplica(t.testdir(), spec), opts);
  t.teardown(() => r.close());
  const q = createQueries(r.db);
  t.same(q.callRecords('camp', 'lead'), {
    campaign: { id: 'camp', tenantId: 'acme', name: 'camp', status: 'active', stirShakenAttestation: 'A', metadata: '{"carrier_id":"c2"}' },
    lead: { id: 'lead', tenantId: 'acme', leadListId: 'L', primaryPhone: '+12125550111' },
    leadList: { id: 'L', tenantId: 'acme', name: 'L', callerId: '+12125550100' },
  });
  t.same(q.callRecords('nope', 'nope'), { campaign: undefined, lead: undefined, leadList: undefined });
  t.same(q.carriers().map((c) => c.id), ['c1', 'c2']);
  t.match(q.carriers()[1], { tenantId: 'acme', origin: 'tenant', callerIdFormat: '+E164', remotePort: 5060, remoteHost: null });
  t.same(q.routes().map((x) => [x.id, x.priority]), [['r1', 10], ['r2', 20]]);
  t.match(q.routes()[0], { matchType: 'prefix', prefix: '1', regex: null, stripPrefix: '1', addPrefix: '011', updatedAt: null });
  t.same(q.phoneNumbers(), [{ id: 'n1', tenantId: 'acme', number: '+12125550199', carrierId: 'c1', capabilities: 'voice' }]);
  t.equal(q.newestUpdatedAt(), '2025-01-05T00:00:00Z');
  t.equal(q.schemaVersion(), SCHEMA_VERSION);
  t.equal(q.routeCount(), 2);
  t.type(q.dataVersion(), 'number');
});

t.test('a lead whose list is missing gives leadList undefined', async (t) => {
  const r = openReplica(buildReplica(t.testdir(), { leads: [{ id: 'lead', leadListId: 'gone' }] }), opts);
  t.teardown(() => r.close());
  t.match(createQueries(r.db).callRecords('x', 'lead'), { lead: { leadListId: 'gone' }, leadList: undefined });
});

t.test('newestUpdatedAt is null with no timestamps', async (t) => {
  const r = openReplica(buildReplica(t.testdir(), { carriers: [{ id: 'c', name: 'g', updatedAt: null }] }), opts);
  t.teardown(() => r.close());
  t.equal(createQueries(r.db).newestUpdatedAt(), null);
});

t.test('dataVersion changes when another connection commits', async (t) => {
  const path = buildReplica(t.testdir());
  const r = openReplica(path, opts);
  t.teardown(() => r.close());
  const q = createQueries(r.db);
  const before = q.dataVersion();
  const w = openReplicaWriter(path);
  t.teardown(() => w.close());
  t.equal(q.dataVersion(), before, 'opening a writer is not a commit');
  w.insertCarrier({ id: 'c9', name: 'gw9' });
  t.not(q.dataVersion(), before);
});

t.test('hostile stored types never throw and never look valid', async (t) => {
  const path = buildReplica(t.testdir(), spec);
  const w = openReplicaWriter(path);
  w.db.exec(`UPDATE carriers SET name = X'677731', remote_port = 'abc', strip_prefix = 1.5 WHERE id = 'c1'`);
  w.db.exec(`UPDATE outbound_routes SET priority = 'high', prefix = X'31' WHERE id = 'r1'`);
  w.db.exec(`UPDATE leads SET primary_phone = CAST(X'2B31323132FF' AS TEXT)`);
  w.db.exec(`UPDATE campaigns SET metadata = X'7B7D'`);
  w.close();
  const r = openReplica(path, opts);
  t.teardown(() => r.close());
  const q = createQueries(r.db);
  const c1 = q.carriers().find((c) => c.id === 'c1');
  t.match(c1, { name: '<blob:677731>', stripPrefix: '1.5' });
  t.ok(Number.isNaN(c1?.remotePort));
  const r1 = q.routes().find((x) => x.id === 'r1');
  t.ok(Number.isNaN(r1?.priority));
  t.equal(r1?.prefix, '<blob:31>');
  const rec = q.callRecords('camp', 'lead');
  t.equal(rec.campaign?.metadata, '<blob:7b7d>');
  t.match(rec.lead?.primaryPhone, /\uFFFD/, 'invalid UTF-8 decodes to U+FFFD');
});

t.test('a foreign DDL with INTEGER/REAL columns maps numbers to strings', async (t) => {
  const path = join(t.testdir(), 'foreign.db');
  const db = new Database(path);
  db.exec((MIGRATIONS[0] ?? '').replace('primary_phone TEXT', 'primary_phone INTEGER').replace('caller_id TEXT', 'caller_id REAL'));
  db.pragma(`user_version = ${SCHEMA_VERSION}`);
  db.exec(`INSERT INTO lead_lists VALUES ('L', 't1', 'L', 12125550100.0); INSERT INTO leads VALUES ('lead', 't1', 'L', 12125550111)`);
  db.close();
  const r = openReplica(path, opts);
  t.teardown(() => r.close());
  t.match(createQueries(r.db).callRecords('x', 'lead'), { lead: { primaryPhone: '12125550111' }, leadList: { callerId: '12125550100' } });
});

t.test('value coercion table', async (t) => {
  const rows: [unknown, string | null, number | null][] = [
    [null, null, null],
    ['abc', 'abc', Number.NaN],
    [' 42 ', ' 42 ', 42],
    [42, '42', 42],
    [1.5, '1.5', 1.5],
    [12n, '12', 12],
    [Buffer.from('hi'), '<blob:6869>', Number.NaN],
  ];
  for (const [v, s, n] of rows) {
    t.equal(textOrNull(v), s, `text ${String(v)}`);
    t.same(intOrNull(v), n, `int ${String(v)}`);
  }
});

t.test('the joined lookup returns what three separate primary-key lookups would, for every shape of row', async (t) => {
  const path = join(t.testdir(), 'odd.db');
  const db = new Database(path);
  // lead_list_id untyped and nullable, as a foreign writer might declare it, so odd types stay as stored.
  db.exec((MIGRATIONS[0] ?? '').replace('lead_list_id TEXT NOT NULL REFERENCES lead_lists(id)', 'lead_list_id'));
  db.pragma(`user_version = ${SCHEMA_VERSION}`);
  db.exec(`
    INSERT INTO campaigns VALUES ('camp', 't1', 'C', 'active', 'A', NULL);
    INSERT INTO lead_lists VALUES ('L', 't1', 'L', '+12125550100'), ('7', 't1', 'seven', '+12125550101'),
      ('', 't1', 'empty', '+12125550102'), ('<blob:4c>', 't1', 'blobtext', NULL);
    INSERT INTO leads VALUES ('ok', 't1', 'L', '+12125550111'), ('int', 't1', 7, '1'), ('null', 't1', NULL, '2'),
      ('blob', 't1', X'4C', '3'), ('gone', 't1', 'nope', '4'), ('real', 't1', 1.5, '5');`);
  db.close();
  const r = openReplica(path, opts);
  t.teardown(() => r.close());
  const q = createQueries(r.db);
  // The oracle: one query per table, the lead list looked up by the lead's mapped lead_list_id.
  const one = (sql: string, id: string) => r.db.prepare<[string], Record<string, unknown>>(sql).get(id);
  const oracle = (campaignId: string, leadId: string) => {
    const c = one('SELECT * FROM campaigns WHERE id = ?', campaignId);
    const l = one('SELECT * FROM leads WHERE id = ?', leadId);
    const listId = l === undefined ? undefined : textOrNull(l.lead_list_id) ?? '';
    const ll = listId === undefined ? undefined : one('SELECT * FROM lead_lists WHERE id = ?', listId);
    return {
      campaign: c && { id: c.id, tenantId: c.tenant_id, name: c.name, status: c.status, stirShakenAttestation: c.stir_shaken_attestation, metadata: c.metadata },
      lead: l && { id: l.id, tenantId: l.tenant_id, leadListId: listId, primaryPhone: l.primary_phone },
      leadList: ll && { id: ll.id, tenantId: ll.tenant_id, name: ll.name, callerId: ll.caller_id },
    };
  };
  const rows: [string, string, string][] = [
    ['camp', 'ok', 'all three'],
    ['nope', 'ok', 'campaign missing, lead and list found'],
    ['camp', 'nope', 'lead missing: no list either'],
    ['nope', 'nope', 'nothing'],
    ['camp', 'gone', 'list missing'],
    ['camp', 'int', 'integer lead_list_id finds list "7"'],
    ['camp', 'null', 'NULL lead_list_id looks up ""'],
    ['camp', 'blob', 'BLOB lead_list_id looks up its <blob:…> text'],
    ['camp', 'real', 'REAL lead_list_id'],
  ];
  for (const [campaignId, leadId, name] of rows) {
    const want = oracle(campaignId, leadId);
    t.same(q.callRecords(campaignId, leadId), want, name);
    t.same(q.versionedCallRecords(campaignId, leadId).records, want, `${name} (versioned)`);
  }
  t.equal(q.callRecords('camp', 'blob').leadList?.name, 'blobtext');
  t.equal(q.callRecords('camp', 'int').leadList?.name, 'seven');
});

t.test('versionedCallRecords reads data_version in the same statement, and it changes on a commit', async (t) => {
  const path = buildReplica(t.testdir(), spec);
  const r = openReplica(path, opts);
  t.teardown(() => r.close());
  const q = createQueries(r.db);
  const before = q.versionedCallRecords('camp', 'lead');
  t.equal(before.dataVersion, q.dataVersion());
  t.equal(before.records.lead?.primaryPhone, '+12125550111');
  const w = openReplicaWriter(path);
  t.teardown(() => w.close());
  w.db.exec(`UPDATE leads SET primary_phone = '+12125550122' WHERE id = 'lead'`);
  const after = q.versionedCallRecords('camp', 'lead');
  t.not(after.dataVersion, before.dataVersion);
  t.equal(after.dataVersion, q.dataVersion());
  t.equal(after.records.lead?.primaryPhone, '+12125550122');
});

t.test('versionedCallRecords: cached campaigns and lead lists never outlive a commit by another connection', async (t) => {
  const path = buildReplica(t.testdir(), {
    ...spec,
    leads: [{ id: 'lead', primaryPhone: '+12125550111' }, { id: 'lead2', primaryPhone: '+12125550112' }],
  });
  const r = openReplica(path, opts);
  t.teardown(() => r.close());
  const q = createQueries(r.db);
  const w = openReplicaWriter(path);
  t.teardown(() => w.close());
  const read = (campaignId = 'camp', leadId = 'lead') => q.versionedCallRecords(campaignId, leadId);

  const first = read();
  const second = read('camp', 'lead2');
  t.equal(second.records.campaign, first.records.campaign, 'the second call shares the cached campaign row');
  t.equal(second.records.leadList, first.records.leadList, 'and the cached lead list row');
  t.ok(Object.isFrozen(first.records.campaign) && Object.isFrozen(first.records.leadList), 'shared rows are frozen');
  t.equal(second.records.lead?.primaryPhone, '+12125550112', 'the lead is read from the file');

  const rows: { name: string; sql: string; check: (x: ReturnType<typeof read>) => unknown; want: unknown }[] = [
    { name: 'campaign updated', sql: `UPDATE campaigns SET name = 'renamed'`, check: (x) => x.records.campaign?.name, want: 'renamed' },
    { name: 'lead list updated', sql: `UPDATE lead_lists SET caller_id = '+12125550177'`, check: (x) => x.records.leadList?.callerId, want: '+12125550177' },
    { name: 'campaign deleted', sql: `DELETE FROM campaigns`, check: (x) => x.records.campaign, want: undefined },
    { name: 'campaign back', sql: `INSERT INTO campaigns (id, tenant_id, name) VALUES ('camp', 'acme', 'back')`, check: (x) => x.records.campaign?.name, want: 'back' },
    { name: 'lead moved to a missing list', sql: `UPDATE leads SET lead_list_id = 'nope' WHERE id = 'lead'`, check: (x) => x.records.leadList, want: undefined },
    { name: 'the list appears', sql: `INSERT INTO lead_lists VALUES ('nope', 'acme', 'late', '+12125550188')`, check: (x) => x.records.leadList?.name, want: 'late' },
  ];
  for (const row of rows) {
    read();
    read();
    const before = q.dataVersion();
    w.db.exec(row.sql);
    const after = read();
    t.not(after.dataVersion, before, `${row.name}: a new data version`);
    t.same(row.check(after), row.want, `${row.name}: seen by the very next call`);
    t.same(row.check(read()), row.want, `${row.name}: and by the one after`);
  }

  // A campaign that was absent (cached as absent) and is then inserted.
  t.equal(read('late-camp').records.campaign, undefined);
  t.equal(read('late-camp').records.campaign, undefined);
  w.db.exec(`INSERT INTO campaigns (id, tenant_id, name) VALUES ('late-camp', 'acme', 'late')`);
  t.equal(read('late-camp').records.campaign?.name, 'late', 'a negative entry does not outlive the commit');
});

t.test('versionedCallRecords: past the cache bound every ID still reads correctly', async (t) => {
  const n = ROW_CACHE_ENTRIES + 10;
  const path = buildReplica(t.testdir(), spec);
  const w = openReplicaWriter(path);
  w.transaction(() => {
    for (let i = 0; i < n; i++) w.insertCampaign({ id: `c-${i}`, tenantId: 'acme', name: `n-${i}` });
  });
  w.close();
  const r = openReplica(path, opts);
  t.teardown(() => r.close());
  const q = createQueries(r.db);
  const wrong: number[] = [];
  for (let pass = 0; pass < 2; pass++) {
    for (let i = 0; i < n; i++) if (q.versionedCallRecords(`c-${i}`, 'lead').records.campaign?.name !== `n-${i}`) wrong.push(i);
  }
  t.same(wrong, []);
});

t.test('versionedCallRecords answers like callRecords for hostile rows, cached or not', async (t) => {
  const path = buildReplica(t.testdir(), spec);
  const w = openReplicaWriter(path);
  w.db.exec(`UPDATE leads SET primary_phone = CAST(X'2B31323132FF' AS TEXT), tenant_id = 42`);
  w.db.exec(`UPDATE campaigns SET metadata = X'7B7D', name = 1.5`);
  w.db.exec(`UPDATE lead_lists SET caller_id = X'00', name = 7`);
  w.close();
  const r = openReplica(path, opts);
  t.teardown(() => r.close());
  const q = createQueries(r.db);
  for (const [c, l] of [['camp', 'lead'], ['camp', 'lead'], ['nope', 'lead'], ['camp', 'nope'], ['nope', 'nope'], ['camp', 'lead']] as const) {
    t.same(q.versionedCallRecords(c, l).records, q.callRecords(c, l), `${c}/${l}`);
  }
});
