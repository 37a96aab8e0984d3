import t from 'tap';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { migrateReplica } from '../../src/replica/migrate.js';
import { REQUIRED_COLUMNS, SCHEMA_VERSION } from '../../src/replica/schema.js';
import { ReplicaError } from '../../src/errors.js';

t.test('creates a fresh file at the current version, in WAL mode, with every required column', async (t) => {
  const path = join(t.testdir(), 'r.db');
  t.same(migrateReplica(path), { from: 0, to: SCHEMA_VERSION });
  const db = new Database(path, { readonly: true });
  t.teardown(() => db.close());
  t.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
  t.equal(db.pragma('journal_mode', { simple: true }), 'wal');
  for (const [table, cols] of Object.entries(REQUIRED_COLUMNS)) {
    const have = (db.pragma(`table_info(${table})`) as { name: string }[]).map((c) => c.name);
    t.same(have.filter((c) => cols.includes(c)).sort(), [...cols].sort(), table);
  }
});

t.test('is idempotent', async (t) => {
  const path = join(t.testdir(), 'r.db');
  migrateReplica(path);
  t.same(migrateReplica(path), { from: SCHEMA_VERSION, to: SCHEMA_VERSION });
});

t.test('refuses a newer file, naming both versions, and leaves it untouched', async (t) => {
  const path = join(t.testdir(), 'r.db');
  migrateReplica(path);
  const db = new Database(path);
  db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
  db.close();
  const err = t.throws(() => migrateReplica(path)) as unknown;
  t.ok(err instanceof ReplicaError);
  t.equal((err as ReplicaError).code, 'replica_schema_newer');
  t.match((err as ReplicaError).message, new RegExp(`version ${SCHEMA_VERSION + 1}.*up to ${SCHEMA_VERSION}`));
  const check = new Database(path, { readonly: true });
  t.equal(check.pragma('user_version', { simple: true }), SCHEMA_VERSION + 1);
  check.close();
});

t.test('a file that is not SQLite is replica_open_failed', async (t) => {
  const path = join(t.testdir(), 'r.db');
  writeFileSync(path, 'this is not a database, just text that is long enough to look like a header'.repeat(20));
  t.throws(() => migrateReplica(path), { code: 'replica_open_failed' });
});
