import t, { type Test } from 'tap';
import { join } from 'node:path';
import { chmodSync, existsSync, readdirSync, writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { immutableUri, openReplica, statIdentity } from '../../src/replica/database.js';
import { SCHEMA_VERSION } from '../../src/replica/schema.js';
import { openReplicaWriter } from '../../src/replica/writer.js';
import { buildReplica } from '../fixtures/replica.js';
import { childEnv, cannotDropWrite, runScript } from './unprivileged.js';

const opts = { busyTimeoutMs: 50 };

t.test('opens a current replica read-only and records the file identity', async (t) => {
  const path = buildReplica(t.testdir(), { carriers: [{ id: 'c1', name: 'gw1' }] });
  const r = openReplica(path, opts);
  t.teardown(() => r.close());
  t.equal(r.schemaVersion, SCHEMA_VERSION);
  t.ok(r.db.readonly);
  t.same(r.file, statIdentity(path));
  t.equal(r.mode, 'shared');
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

// Read-only directory (systemd ReadOnlyPaths=): needs a process that really lacks write access, see unprivileged.ts.
t.test('read-only directory', { skip: cannotDropWrite() ?? false }, async (t) => {
  const openIn = (path: string, env = childEnv()) => {
    const r = runScript(`
      import { openReplica } from ${JSON.stringify(new URL('../../src/replica/database.ts', import.meta.url).href)};
      try { const r = openReplica(${JSON.stringify(path)}, { busyTimeoutMs: 10 }); console.log('opened ' + r.mode + ' ' + r.schemaVersion); r.close(); }
      catch (e) { console.log(e.code + ' ' + e.message); }`, env);
    if (/Cannot find|EACCES.*node_modules|ERR_MODULE_NOT_FOUND/.test(r.stderr)) t.fail(`child cannot load sources: ${r.stderr}`);
    return r.stdout.trim();
  };
  const readOnlyDir = (t: Test, journalMode: 'wal' | 'delete') => {
    const dir = t.testdir();
    const path = buildReplica(dir, {}, { journalMode });
    chmodSync(dir, 0o555);
    chmodSync(path, 0o444);
    // As another user the directory must be writable again for tap to remove it (root removes it anyway).
    t.teardown(() => existsSync(dir) && chmodSync(dir, 0o755));
    return { path, files: () => readdirSync(dir) };
  };

  t.test('WAL replica without -wal/-shm (writer closed) opens immutable and creates nothing', async (t) => {
    const { path, files } = readOnlyDir(t, 'wal');
    t.equal(openIn(path), `opened immutable ${SCHEMA_VERSION}`);
    t.same(files(), ['replica.db']);
  });

  t.test('without SQLite URI filenames it fails naming SQLITE_USE_URI', async (t) => {
    const { path } = readOnlyDir(t, 'wal');
    t.match(openIn(path, childEnv({ SQLITE_USE_URI: undefined })), /^replica_open_failed .*without -wal\/-shm.*SQLITE_USE_URI=1/);
  });

  t.test('WAL replica with frames in its -wal (a writer committed) reads shared through the existing files', async (t) => {
    const { path, files } = readOnlyDir(t, 'wal');
    chmodSync(join(path, '..'), 0o755);
    const w = openReplicaWriter(path);
    t.teardown(() => w.close());
    chmodSync(join(path, '..'), 0o555);
    t.equal(openIn(path), `opened immutable ${SCHEMA_VERSION}`, 'a writer that has not committed leaves the -wal empty');
    w.insertCarrier({ id: 'c9', name: 'gw9' });
    t.equal(openIn(path), `opened shared ${SCHEMA_VERSION}`);
    w.db.pragma('wal_checkpoint(TRUNCATE)');
    t.equal(openIn(path), `opened immutable ${SCHEMA_VERSION}`, 'a TRUNCATE checkpoint empties it again');
    t.same(files().sort(), ['replica.db', 'replica.db-shm', 'replica.db-wal']);
  });

  t.test('rollback-journal replica opens shared', async (t) => {
    const { path, files } = readOnlyDir(t, 'delete');
    t.equal(openIn(path), `opened shared ${SCHEMA_VERSION}`);
    t.same(files(), ['replica.db']);
  });
});

t.test('immutableUri escapes URI syntax in the path', async (t) => {
  t.equal(immutableUri('/var/lib/a?b#c%d.db'), 'file:/var/lib/a%3Fb%23c%25d.db?immutable=1');
});
