import t, { type Test } from 'tap';
import { join } from 'node:path';
import { openSync, renameSync, truncateSync, unlinkSync, writeSync, closeSync } from 'node:fs';
import { createReplicaStore, DEFAULT_FILE_CHECK_MS, type ReplicaRows } from '../../src/replica/store.js';
import { SCHEMA_VERSION } from '../../src/replica/schema.js';
import { openReplicaWriter, type ReplicaWriter } from '../../src/replica/writer.js';
import { buildReplica, type BuildReplicaOptions, type ReplicaSpec } from '../fixtures/replica.js';

const spec: ReplicaSpec = {
  carriers: [{ id: 'c1', name: 'gw1' }, { id: 'c2', name: 'gw2' }],
  routes: [{ id: 'r1', prefix: '1', carrierId: 'c1', priority: 10 }, { id: 'r2', prefix: '44', carrierId: 'c2' }],
  campaigns: [{ id: 'camp' }],
  leadLists: [{ id: 'L', callerId: '+12125550100' }],
  leads: [{ id: 'lead', primaryPhone: '+12125550111' }],
};

interface Index { routeIds: string[]; build: number }

/** A store over a fresh replica, a writer connection standing in for "the other process", and a build counter. */
function setup(t: Test, opts: { spec?: ReplicaSpec; build?: BuildReplicaOptions; busyTimeoutMs?: number } = {}) {
  const dir = t.testdir();
  const path = buildReplica(dir, opts.spec ?? spec, { now: () => 0, ...opts.build });
  let builds = 0;
  let clock = 1000;
  const store = createReplicaStore<Index>({
    path,
    busyTimeoutMs: opts.busyTimeoutMs ?? 20,
    buildIndex: (rows: ReplicaRows) => ({ routeIds: rows.routes.map((r) => r.id), build: ++builds }),
    now: () => clock,
  });
  t.teardown(() => store.close());
  const writers: ReplicaWriter[] = [];
  const writer = (p = path, o: BuildReplicaOptions = {}) => {
    const w = openReplicaWriter(p, { now: () => 0, ...o });
    writers.push(w);
    return w;
  };
  t.teardown(() => {
    for (const w of writers) {
      if (w.db.open && w.db.inTransaction) w.db.exec('ROLLBACK');
      w.close();
    }
  });
  return { dir, path, store, writer, builds: () => builds, tick: (ms = 1000) => (clock += ms) };
}

const ok = <T>(r: { ok: boolean }): T => {
  if (!r.ok) throw new Error(`lookup failed: ${JSON.stringify(r)}`);
  return r as T;
};
type Hit = { records: { lead?: { primaryPhone: string | null } }; index: Index };

t.test('open, lookup and status on a healthy replica', async (t) => {
  const { store } = setup(t);
  store.open();
  const r = ok<Hit>(store.lookup('camp', 'lead'));
  t.equal(r.records.lead?.primaryPhone, '+12125550111');
  t.same(r.index.routeIds, ['r1', 'r2']);
  t.match(store.status(), {
    open: true, readable: true, schemaVersion: SCHEMA_VERSION, fileExists: true, lastGoodAt: 1000, lastError: null, routeCount: 2,
    newestUpdatedAt: '1970-01-01T00:00:00.000Z',
  });
  t.type(store.status().fileMtimeMs, 'number');
  t.same(store.refresh(), { result: 'unchanged' });
  t.same(store.current()?.index.routeIds, ['r1', 'r2']);
});

t.test('open throws a ReplicaError when the replica is unusable at start-up', async (t) => {
  const store = createReplicaStore({ path: join(t.testdir(), 'none.db'), busyTimeoutMs: 10, buildIndex: () => 0, now: () => 0 });
  t.throws(() => store.open(), { name: 'ReplicaError', code: 'replica_missing' });
  t.match(store.lookup('camp', 'lead'), { ok: false, code: 'replica_unavailable', cause: 'replica_missing' });
  t.match(store.status(), { open: false, fileExists: false, lastGoodAt: null, lastError: { code: 'replica_missing' } });
});

t.test('a file that appears after a failed start is opened by the next refresh', async (t) => {
  const dir = t.testdir();
  const path = join(dir, 'late.db');
  const store = createReplicaStore({ path, busyTimeoutMs: 10, buildIndex: (r: ReplicaRows) => r.routes.length, now: () => 0 });
  t.teardown(() => store.close());
  t.throws(() => store.open());
  t.match(store.refresh(), { result: 'failed', error: { code: 'replica_missing' } });
  buildReplica(dir, spec, { file: 'late.db' });
  t.same(store.refresh(), { result: 'reopened' });
  t.match(store.lookup('camp', 'lead'), { ok: true, index: 2 });
});

t.test('a commit by another process is seen by the very next lookup', async (t) => {
  const { store, writer, builds } = setup(t);
  store.open();
  const w = writer();
  w.insertLead({ id: 'lead2', tenantId: 't1', leadListId: 'L', primaryPhone: '+12125550122' });
  t.equal(ok<Hit>(store.lookup('camp', 'lead2')).records.lead?.primaryPhone, '+12125550122');
  t.equal(builds(), 1, 'a lead commit re-reads routes but does not rebuild an unchanged index');
  w.insertRoute({ id: 'r3', tenantId: 't1', prefix: '33', carrierId: 'c1' });
  t.same(ok<Hit>(store.lookup('camp', 'lead')).index.routeIds, ['r1', 'r2', 'r3']);
  t.equal(builds(), 2);
  t.same(store.refresh(), { result: 'unchanged' }, 'the lookup already reloaded');
});

t.test('refresh reports reloaded when routing data changed', async (t) => {
  const { store, writer } = setup(t);
  store.open();
  writer().insertCarrier({ id: 'c1', name: 'gw1', status: 'archived' });
  t.same(store.refresh(), { result: 'reloaded' });
  t.equal(store.current()?.rows.carriers.find((c) => c.id === 'c1')?.status, 'archived');
});

t.test('deleted file: keeps serving from the open handle, reports replica_missing', async (t) => {
  const { store, path } = setup(t);
  store.open();
  unlinkSync(path);
  t.match(store.refresh(), { result: 'failed', error: { code: 'replica_missing', message: /does not exist/ } });
  t.match(store.status(), { fileExists: false, fileMtimeMs: null, lastError: { code: 'replica_missing' }, routeCount: 2 });
  t.equal(ok<Hit>(store.lookup('camp', 'lead')).records.lead?.primaryPhone, '+12125550111');
});

t.test('replaced by rename: the next lookup past the file-check interval switches to the new file', async (t) => {
  const { store, path, dir, tick } = setup(t);
  store.open();
  const next = buildReplica(dir, {
    ...spec,
    routes: [{ id: 'r9', prefix: '1', carrierId: 'c2' }],
    leads: [{ id: 'lead', primaryPhone: '+12125550199' }],
  }, { file: 'next.db' });
  renameSync(next, path);
  // Within the file-check interval of the open's look at the file: the hot path does not stat again yet.
  t.equal(ok<Hit>(store.lookup('camp', 'lead')).records.lead?.primaryPhone, '+12125550111', 'within the interval: old file');
  tick(DEFAULT_FILE_CHECK_MS - 1);
  t.equal(ok<Hit>(store.lookup('camp', 'lead')).records.lead?.primaryPhone, '+12125550111', 'still within it: old file');
  tick(1);
  const r = ok<Hit>(store.lookup('camp', 'lead'));
  t.equal(r.records.lead?.primaryPhone, '+12125550199');
  t.same(r.index.routeIds, ['r9']);
  t.same(store.refresh(), { result: 'unchanged' });
});

t.test('replaced by rename: refresh reports reopened', async (t) => {
  const { store, path, dir } = setup(t);
  store.open();
  renameSync(buildReplica(dir, { ...spec, routes: [] }, { file: 'next.db' }), path);
  // A replacement file with no routes where we had some is treated like an emptied table.
  t.match(store.refresh(), { result: 'kept_last_good', error: { code: 'replica_routes_emptied' } });
  renameSync(buildReplica(dir, spec, { file: 'next2.db' }), path);
  t.same(store.refresh(), { result: 'reopened' });
});

t.test('replaced by an unusable file: keeps the old handle and index', async (t) => {
  const rows: { name: string; make: (dir: string) => string; code: string }[] = [
    { name: 'garbage', make: (d) => { const p = join(d, 'g.db'); const fd = openSync(p, 'w'); writeSync(fd, Buffer.alloc(8192, 0x41)); closeSync(fd); return p; }, code: 'replica_corrupt' },
    { name: 'newer schema', make: (d) => { const p = buildReplica(d, spec, { file: 'n.db' }); const w = openReplicaWriter(p); w.db.pragma(`user_version = ${SCHEMA_VERSION + 1}`); w.close(); return p; }, code: 'replica_schema_newer' },
    { name: 'missing columns', make: (d) => { const p = buildReplica(d, spec, { file: 'm.db' }); const w = openReplicaWriter(p); w.db.exec('DROP TABLE leads'); w.close(); return p; }, code: 'replica_schema_invalid' },
  ];
  for (const row of rows) {
    t.test(row.name, async (t) => {
      const { store, path, dir } = setup(t);
      store.open();
      renameSync(row.make(dir), path);
      t.equal(ok<Hit>(store.lookup('camp', 'lead')).records.lead?.primaryPhone, '+12125550111', 'lookup serves old data');
      t.match(store.refresh(), { result: 'failed', error: { code: row.code } });
      t.match(store.status(), { open: true, lastError: { code: row.code }, routeCount: 2, schemaVersion: SCHEMA_VERSION });
      t.ok(store.lookup('camp', 'lead').ok);
      renameSync(buildReplica(dir, spec, { file: 'fixed.db' }), path);
      t.same(store.refresh(), { result: 'reopened' }, 'a good replacement is picked up');
      t.match(store.status(), { lastError: null });
    });
  }
});

t.test('truncated or overwritten in place: calls fail replica_unavailable, refresh fails, repair recovers', async (t) => {
  const rows: { name: string; damage: (p: string) => void }[] = [
    { name: 'truncated to zero', damage: (p) => truncateSync(p, 0) },
    { name: 'garbage over the header', damage: (p) => { const fd = openSync(p, 'r+'); writeSync(fd, Buffer.alloc(4096, 0x41), 0, 4096, 0); closeSync(fd); } },
  ];
  for (const row of rows) {
    for (const journalMode of ['wal', 'delete'] as const) {
      t.test(`${row.name} (${journalMode})`, async (t) => {
        const { store, path, dir, tick } = setup(t, { build: { journalMode } });
        store.open();
        tick();
        row.damage(path);
        const r = store.refresh();
        t.equal(r.result, 'failed');
        t.match(r.error?.code, /^replica_(corrupt|schema_invalid)$/);
        t.match(store.lookup('camp', 'lead'), { ok: false, code: 'replica_unavailable' });
        t.match(store.status(), { readable: false, lastGoodAt: 1000, routeCount: 2 });
        renameSync(buildReplica(dir, spec, { file: 'fixed.db', journalMode }), path);
        t.same(store.refresh(), { result: 'reopened' });
        t.ok(store.lookup('camp', 'lead').ok);
        t.match(store.status(), { readable: true, lastError: null, lastGoodAt: 2000 });
      });
    }
  }
});

t.test('a WAL writer in a long transaction blocks nothing; its commit is seen next', async (t) => {
  const { store, writer } = setup(t);
  store.open();
  const w = writer();
  w.db.exec('BEGIN IMMEDIATE');
  w.insertLead({ id: 'lead2', tenantId: 't1', leadListId: 'L', primaryPhone: '+12125550122' });
  t.match(store.lookup('camp', 'lead2'), { ok: true, records: { lead: undefined } });
  t.same(store.refresh(), { result: 'unchanged' });
  w.db.exec('COMMIT');
  t.match(store.lookup('camp', 'lead2'), { ok: true, records: { lead: { id: 'lead2' } } });
});

t.test('a rollback-journal writer holding EXCLUSIVE: replica_busy until it commits', async (t) => {
  const { store, writer } = setup(t, { build: { journalMode: 'delete' }, busyTimeoutMs: 5 });
  store.open();
  const w = writer(undefined, { journalMode: 'delete' });
  w.db.exec('BEGIN EXCLUSIVE');
  w.insertLead({ id: 'lead2', tenantId: 't1', leadListId: 'L', primaryPhone: '+12125550122' });
  t.match(store.lookup('camp', 'lead'), { ok: false, code: 'replica_unavailable', cause: 'replica_busy' });
  t.match(store.refresh(), { result: 'failed', error: { code: 'replica_busy' } });
  t.match(store.status(), { readable: false, routeCount: 2 });
  w.db.exec('COMMIT');
  t.match(store.lookup('camp', 'lead2'), { ok: true, records: { lead: { id: 'lead2' } } });
  t.match(store.refresh(), { result: 'unchanged' }, 'refresh re-checks after a failure (the lookup already reloaded)');
  t.match(store.status(), { readable: true, lastError: null });
});

t.test('a newer schema version written while running: reported, last good keeps serving', async (t) => {
  const { store, writer } = setup(t);
  store.open();
  writer().db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
  t.ok(store.lookup('camp', 'lead').ok, 'calls keep being served');
  t.match(store.refresh(), { result: 'failed', error: { code: 'replica_schema_newer', message: new RegExp(`version ${SCHEMA_VERSION + 1}`) } });
  t.match(store.status(), { schemaVersion: SCHEMA_VERSION + 1, lastError: { code: 'replica_schema_newer' }, routeCount: 2 });
});

t.test('routes emptied: the last good index keeps serving until routes return or SIGHUP accepts', async (t) => {
  const { store, writer, builds } = setup(t);
  store.open();
  const w = writer();
  w.deleteAll('outbound_routes');
  t.same(ok<Hit>(store.lookup('camp', 'lead')).index.routeIds, ['r1', 'r2'], 'lookup keeps the last good index');
  t.match(store.refresh(), { result: 'kept_last_good', error: { code: 'replica_routes_emptied' } });
  t.match(store.status(), { readable: true, routeCount: 2, lastError: { code: 'replica_routes_emptied' } });
  t.equal(builds(), 1);

  w.insertRoute({ id: 'r5', tenantId: 't1', prefix: '5', carrierId: 'c1' });
  t.same(store.refresh(), { result: 'reloaded' });
  t.same(store.current()?.index.routeIds, ['r5']);

  w.deleteAll('outbound_routes');
  t.match(store.refresh(), { result: 'kept_last_good' });
  t.same(store.reopen(), { result: 'reopened' }, 'SIGHUP accepts an empty table');
  t.match(store.status(), { routeCount: 0, lastError: null });
});

t.test('an index builder that throws keeps the last good index', async (t) => {
  const dir = t.testdir();
  const path = buildReplica(dir, spec);
  let fail = false;
  const store = createReplicaStore({
    path, busyTimeoutMs: 10, now: () => 0,
    buildIndex: (r: ReplicaRows) => { if (fail) throw new Error('boom'); return r.routes.length; },
  });
  t.teardown(() => store.close());
  store.open();
  fail = true;
  const w = openReplicaWriter(path);
  t.teardown(() => w.close());
  w.insertRoute({ id: 'r7', tenantId: 't1', prefix: '7', carrierId: 'c1' });
  t.match(store.lookup('camp', 'lead'), { ok: true, index: 2 });
  t.match(store.refresh(), { result: 'failed', error: { code: 'internal_error', message: /boom/ } });
});

t.test('countRoutes decides routeCount', async (t) => {
  const store = createReplicaStore({
    path: buildReplica(t.testdir(), spec), busyTimeoutMs: 10, now: () => 0,
    buildIndex: () => ({ n: 42 }), countRoutes: (i) => i.n,
  });
  t.teardown(() => store.close());
  store.open();
  t.equal(store.status().routeCount, 42);
});

t.test('fileCheckIntervalMs: 0 looks at the file on every lookup; a clock stepped back looks too', async (t) => {
  const dir = t.testdir();
  const path = buildReplica(dir, spec);
  let clock = 5000;
  const store = createReplicaStore({
    path, busyTimeoutMs: 10, now: () => clock, fileCheckIntervalMs: 0,
    buildIndex: (r: ReplicaRows) => r.routes.map((x) => x.id),
  });
  t.teardown(() => store.close());
  store.open();
  const publish = (phone: string, file: string) => {
    renameSync(buildReplica(dir, { ...spec, leads: [{ id: 'lead', primaryPhone: phone }] }, { file }), path);
  };
  publish('+12125550166', 'a.db');
  t.match(store.lookup('camp', 'lead'), { ok: true, records: { lead: { primaryPhone: '+12125550166' } } }, 'same clock ms, interval 0');

  const stepped = createReplicaStore({ path, busyTimeoutMs: 10, now: () => clock, buildIndex: () => 0 });
  t.teardown(() => stepped.close());
  stepped.open();
  publish('+12125550177', 'b.db');
  clock -= 60_000;
  t.match(stepped.lookup('camp', 'lead'), { ok: true, records: { lead: { primaryPhone: '+12125550177' } } }, 'clock went back');
});

t.test('close releases the handle; lookups then fail cleanly', async (t) => {
  const { store } = setup(t);
  store.open();
  store.close();
  t.match(store.lookup('camp', 'lead'), { ok: false, code: 'replica_unavailable' });
  t.equal(store.status().open, false);
});
