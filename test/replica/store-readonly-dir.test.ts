import t, { type Test } from 'tap';
import { existsSync, readdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { openReplicaWriter, type ReplicaWriter } from '../../src/replica/writer.js';
import { buildReplica, type ReplicaSpec } from '../fixtures/replica.js';
import { cannotDropWrite, startStoreChild } from './unprivileged.js';

// The daemon under systemd `ReadOnlyPaths=`: the store runs in a child as nobody, the "sync job" writes here
// as root. Each step awaits the child's answer; nothing is timed.
const skip = process.getuid?.() !== 0
  ? 'needs root: the writer must write the directory the store may not'
  : cannotDropWrite() ?? false;

const spec: ReplicaSpec = {
  carriers: [{ id: 'c1', name: 'gw1' }],
  routes: [{ id: 'r1', prefix: '1', carrierId: 'c1' }],
  campaigns: [{ id: 'camp' }],
  leadLists: [{ id: 'L', callerId: '+12125550100' }],
  leads: [{ id: 'lead', primaryPhone: '+12125550111' }],
};
const lead2 = { id: 'lead2', tenantId: 't1', leadListId: 'L', primaryPhone: '+12125550122' };

function setup(t: Test, journalMode: 'wal' | 'delete' = 'wal') {
  const dir = t.testdir();
  const path = buildReplica(dir, spec, { journalMode, now: () => 0 });
  const writers: ReplicaWriter[] = [];
  t.teardown(() => writers.forEach((w) => w.close()));
  const writer = () => {
    const w = openReplicaWriter(path, { journalMode, now: () => 0 });
    writers.push(w);
    return w;
  };
  return { dir, path, writer, store: startStoreChild(t, path), files: () => readdirSync(dir).sort() };
}

t.test('WAL replica, writer closed: opens immutable and creates no file', { skip }, async (t) => {
  const { store, files } = setup(t);
  t.same(files(), ['replica.db'], 'the writer closed cleanly: no -wal/-shm');
  t.same(await store.call('open'), { mode: 'immutable' });
  t.match(await store.call('lookup', 'camp', 'lead'), { ok: true, phone: '+12125550111', routes: ['r1'] });
  t.match(await store.call('refresh'), { result: 'unchanged', mode: 'immutable' });
  t.match(await store.call('status'), { mode: 'immutable', readable: true, lastError: null });
  t.same(files(), ['replica.db'], 'still nothing created');
});

t.test('a writer opens and commits: the next lookup switches to shared and sees the commit', { skip }, async (t) => {
  const { store, writer, path } = setup(t);
  await store.call('open');
  const w = writer();
  w.insertLead(lead2);
  t.match(await store.call('lookup', 'camp', 'lead2'), { ok: true, phone: '+12125550122', mode: 'shared' });

  w.insertRoute({ id: 'r2', tenantId: 't1', prefix: '44', carrierId: 'c1' });
  t.match(await store.call('lookup', 'camp', 'lead'), { ok: true, routes: ['r1', 'r2'], mode: 'shared' });
  w.insertLead({ ...lead2, primaryPhone: '+12125550133' });
  w.close();
  // The store's SHARED lock keeps the closing writer from checkpointing and deleting the files.
  t.ok(existsSync(`${path}-wal`), 'a closing writer cannot delete -wal while the store is open');
  t.match(await store.call('lookup', 'camp', 'lead2'), { ok: true, phone: '+12125550133', mode: 'shared' });
  t.match(await store.call('refresh'), { result: 'unchanged', mode: 'shared' });

  const again = writer();
  again.insertLead({ ...lead2, primaryPhone: '+12125550144' });
  again.close();
  t.match(await store.call('lookup', 'camp', 'lead2'), { ok: true, phone: '+12125550144', mode: 'shared' });
});

t.test('a writer session that ends between two lookups (checkpointed, -wal removed) is seen', { skip }, async (t) => {
  const { store, writer, path } = setup(t);
  await store.call('open');
  const w = writer();
  w.insertLead(lead2);
  w.insertRoute({ id: 'r2', tenantId: 't1', prefix: '44', carrierId: 'c1' });
  w.close();
  t.notOk(existsSync(`${path}-wal`), 'an immutable reader holds no lock: the writer checkpointed and deleted -wal');
  t.match(await store.call('lookup', 'camp', 'lead2'), { ok: true, phone: '+12125550122', routes: ['r1', 'r2'], mode: 'immutable' });

  // The same through the watch job.
  const w2 = writer();
  w2.insertLead({ ...lead2, primaryPhone: '+12125550155' });
  w2.close();
  t.match(await store.call('refresh'), { result: 'reopened', mode: 'immutable' });
  t.match(await store.call('lookup', 'camp', 'lead2'), { ok: true, phone: '+12125550155' });
  t.match(await store.call('refresh'), { result: 'unchanged' });
});

t.test('refresh alone notices a writer that committed', { skip }, async (t) => {
  const { store, writer } = setup(t);
  await store.call('open');
  writer().insertLead(lead2);
  t.match(await store.call('refresh'), { result: 'reopened', mode: 'shared' });
  t.match(await store.call('lookup', 'camp', 'lead2'), { ok: true, phone: '+12125550122' });
});

t.test('a writer that empties the -wal (TRUNCATE checkpoint) lets refresh go back to immutable', { skip }, async (t) => {
  const { store, writer, path } = setup(t);
  await store.call('open');
  const w = writer();
  t.match(await store.call('lookup', 'camp', 'lead'), { ok: true, mode: 'immutable' }, 'an open writer without commits changes nothing');
  w.insertLead(lead2);
  t.match(await store.call('lookup', 'camp', 'lead2'), { ok: true, phone: '+12125550122', mode: 'shared' });
  w.db.pragma('wal_checkpoint(TRUNCATE)');
  t.match(await store.call('lookup', 'camp', 'lead2'), { ok: true, mode: 'shared' }, 'lookups do not switch back (refresh does)');
  t.match(await store.call('refresh'), { result: 'reopened', mode: 'immutable' });
  t.match(await store.call('refresh'), { result: 'unchanged', mode: 'immutable' });
  w.insertLead({ ...lead2, primaryPhone: '+12125550188' });
  t.match(await store.call('lookup', 'camp', 'lead2'), { ok: true, phone: '+12125550188', mode: 'shared' });
  w.db.pragma('wal_checkpoint(TRUNCATE)');
  w.close();
  t.ok(existsSync(`${path}-wal`), 'the shared handle kept the writer from deleting the files');
  t.match(await store.call('refresh'), { result: 'reopened', mode: 'immutable' });
  t.match(await store.call('lookup', 'camp', 'lead2'), { ok: true, phone: '+12125550188', mode: 'immutable' });
});

t.test('rename-over by a sync job, from immutable and from shared', { skip }, async (t) => {
  const { store, writer, dir, path } = setup(t);
  await store.call('open');
  const publish = (phone: string, file: string) => {
    renameSync(buildReplica(dir, { ...spec, leads: [{ id: 'lead', primaryPhone: phone }] }, { file, now: () => 0 }), path);
  };
  publish('+12125550166', 'next1.db');
  t.match(await store.call('lookup', 'camp', 'lead'), { ok: true, phone: '+12125550166', mode: 'immutable' });

  const w = writer();
  w.insertLead(lead2);
  t.match(await store.call('lookup', 'camp', 'lead2'), { ok: true, mode: 'shared' });
  // The sync job's contract for rename: empty the old file's -wal first (it is named by path, not inode).
  w.db.pragma('wal_checkpoint(TRUNCATE)');
  w.close();
  publish('+12125550177', 'next2.db');
  // The old file's -wal/-shm stay (the store's lock kept the writer from deleting them), empty: immutable.
  t.ok(existsSync(`${path}-wal`));
  t.match(await store.call('lookup', 'camp', 'lead'), { ok: true, phone: '+12125550177', mode: 'immutable' });
  t.match(await store.call('lookup', 'camp', 'lead2'), { ok: true, phone: null }, 'nothing of the old file leaks in');
  t.match(await store.call('refresh'), { result: 'unchanged' });
});

t.test('replaced by a schema-less file while immutable: the old handle keeps serving, refresh reports it', { skip }, async (t) => {
  const { store, dir, path } = setup(t);
  await store.call('open');
  const bad = join(dir, 'bad.db');
  const w = openReplicaWriter(bad);
  w.db.exec('DROP TABLE leads');
  w.close();
  renameSync(bad, path);
  t.match(await store.call('lookup', 'camp', 'lead'), { ok: true, phone: '+12125550111' });
  t.match(await store.call('refresh'), { result: 'failed', error: { code: 'replica_schema_invalid' } });
});

t.test('rollback-journal (DELETE) replica: opens shared, sees commits, creates no file', { skip }, async (t) => {
  const { store, writer, files } = setup(t, 'delete');
  t.same(await store.call('open'), { mode: 'shared' });
  t.match(await store.call('lookup', 'camp', 'lead'), { ok: true, phone: '+12125550111' });
  const w = writer();
  w.insertLead(lead2);
  t.match(await store.call('lookup', 'camp', 'lead2'), { ok: true, phone: '+12125550122', mode: 'shared' });
  w.close();
  t.same(files(), ['replica.db']);
});
