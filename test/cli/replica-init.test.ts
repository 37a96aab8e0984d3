import t from 'tap';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { runReplicaInit } from '../../src/cli/replica-init.js';
import { SCHEMA_VERSION } from '../../src/replica/schema.js';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) }, out, err };
}

t.test('creates, then reports the file is current', async (t) => {
  const replica = join(t.testdir(), 'r.db');
  const a = capture();
  t.equal(await runReplicaInit({ replica }, a.io), 0);
  t.same(a.out, [`replica ${replica}: schema version 0 -> ${SCHEMA_VERSION}`]);
  const b = capture();
  t.equal(await runReplicaInit({ replica }, b.io), 0);
  t.same(b.out, [`replica ${replica}: already at schema version ${SCHEMA_VERSION}`]);
  t.same(b.err, []);
});

t.test('refuses a newer file with a clear message and exit 1', async (t) => {
  const replica = join(t.testdir(), 'r.db');
  await runReplicaInit({ replica }, capture().io);
  const db = new Database(replica);
  db.pragma(`user_version = ${SCHEMA_VERSION + 3}`);
  db.close();
  const c = capture();
  t.equal(await runReplicaInit({ replica }, c.io), 1);
  t.same(c.out, []);
  t.match(c.err[0], new RegExp(`^replica init: replica_schema_newer: .*version ${SCHEMA_VERSION + 3}.*up to ${SCHEMA_VERSION}`));
});

t.test('a missing directory is an open failure, exit 1', async (t) => {
  const c = capture();
  t.equal(await runReplicaInit({ replica: join(t.testdir(), 'no', 'such', 'r.db') }, c.io), 1);
  t.match(c.err[0], /^replica init: replica_open_failed: /);
});
