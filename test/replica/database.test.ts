import t from 'tap';
import { join } from 'node:path';
import { chmodSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import Database from 'better-sqlite3';
import { openReplica, statIdentity } from '../../src/replica/database.js';
import { SCHEMA_VERSION } from '../../src/replica/schema.js';
import { openReplicaWriter } from '../../src/replica/writer.js';
import { buildReplica } from '../fixtures/replica.js';

const opts = { busyTimeoutMs: 50 };

t.test('opens a current replica read-only and records the file identity', async (t) => {
  const path = buildReplica(t.testdir(), { carriers: [{ id: 'c1', name: 'gw1' }] });
  const r = openReplica(path, opts);
  t.teardown(() => r.close());
  t.equal(r.schemaVersion, SCHEMA_VERSION);
  t.ok(r.db.readonly);
  t.same(r.file, statIdentity(path));
  t.throws(() => r.db.exec(`DELETE FROM carriers`), { code: 'SQLITE_READONLY' });
});

t.test('refuses unusable files with a code and a message naming the problem', async (t) => {
  const rows: { name: string; make: (dir: string) => string; code: string; message: RegExp }[] = [
    { name: 'missing file', make: (d) => join(d, 'nope.db'), code: 'replica_missing', message: /does not exist/ },
    {
      name: 'newer user_version',
      make: (d) => { const p = buildReplica(d); const db = new Database(p); db.pragma(`user_version = ${SCHEMA_VERSION + 1}`); db.close(); return p; },
      code: 'replica_schema_newer',
      message: new RegExp(`version ${SCHEMA_VERSION + 1}.*up to ${SCHEMA_VERSION}`),
    },
    {
      name: 'user_version 0 with tables',
      make: (d) => { const p = buildReplica(d); const db = new Database(p); db.pragma('user_version = 0'); db.close(); return p; },
      code: 'replica_schema_invalid',
      message: /user_version is 0/,
    },
    {
      name: 'missing table and column',
      make: (d) => {
        const p = buildReplica(d);
        const db = new Database(p);
        db.exec('DROP TABLE phone_numbers; ALTER TABLE leads DROP COLUMN primary_phone');
        db.close();
        return p;
      },
      code: 'replica_schema_invalid',
      message: /missing table phone_numbers, leads\.primary_phone/,
    },
    { name: 'empty (truncated) file', make: (d) => { const p = join(d, 'e.db'); writeFileSync(p, ''); return p; }, code: 'replica_schema_invalid', message: /missing table carriers/ },
    {
      name: 'garbage bytes',
      make: (d) => { const p = join(d, 'g.db'); writeFileSync(p, Buffer.alloc(8192, 0x41)); return p; },
      code: 'replica_corrupt',
      message: /not a database/,
    },
  ];
  for (const row of rows) {
    t.test(row.name, async (t) => {
      const path = row.make(t.testdir());
      t.throws(() => openReplica(path, opts), { name: 'ReplicaError', code: row.code, message: row.message });
    });
  }
});

t.test('a rollback-journal writer holding an exclusive lock makes the open fail as replica_busy', async (t) => {
  const path = join(t.testdir(), 'r.db');
  const w = openReplicaWriter(path, { journalMode: 'delete' });
  t.teardown(() => w.close());
  w.db.exec('BEGIN EXCLUSIVE');
  t.teardown(() => w.db.inTransaction && w.db.exec('ROLLBACK'));
  t.throws(() => openReplica(path, { busyTimeoutMs: 10 }), { code: 'replica_busy' });
});

// Read-only WAL: a WAL replica without -wal/-shm files in a directory callrouter cannot write. Needs a
// process that really lacks write access: as root, drop privileges for a child via setpriv.
t.test('WAL replica without -shm in a read-only directory fails with a hint', async (t) => {
  const isRoot = process.getuid?.() === 0;
  const setpriv = spawnSync('setpriv', ['--version']);
  if (isRoot && setpriv.status !== 0) { t.plan(0, 'root without setpriv: cannot drop write access'); return; }
  const dir = t.testdir();
  const path = buildReplica(dir);
  chmodSync(dir, 0o555);
  chmodSync(path, 0o444);
  const script = `
    import { openReplica } from ${JSON.stringify(new URL('../../src/replica/database.ts', import.meta.url).href)};
    try { openReplica(${JSON.stringify(path)}, { busyTimeoutMs: 10 }); console.log('opened'); }
    catch (e) { console.log(e.code + ' ' + e.message); }`;
  const cmd = isRoot
    ? ['setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '--import', 'tsx', '--input-type=module', '-e', script]]
    : [process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script]];
  // A clean environment: tap's NODE_OPTIONS hooks would try to write under .tap/ as the unprivileged user.
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/tmp' };
  const r = spawnSync(cmd[0] as string, cmd[1] as string[], { encoding: 'utf8', cwd: process.cwd(), env });
  chmodSync(dir, 0o755);
  if (/Cannot find|EACCES.*node_modules|ERR_MODULE_NOT_FOUND/.test(r.stderr)) { t.plan(0, 'child cannot load sources'); return; }
  t.match(r.stdout, /^replica_open_failed .*attempt to write a readonly database.*-wal\/-shm/m, 'child reports the read-only WAL failure');
});
