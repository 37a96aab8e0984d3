import t from 'tap';
import { join } from 'node:path';
import { statSync, writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { runReplicaDemo } from '../../src/cli/replica-demo.js';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) }, out, err };
}

const count = (path: string) => {
  const db = new Database(path, { readonly: true });
  try {
    return (db.prepare('SELECT count(*) AS n FROM leads').get() as { n: number }).n;
  } finally {
    db.close();
  }
};

t.test('writes the demo replica, creating the parent directory', async (t) => {
  const replica = join(t.testdir(), 'data', 'nested', 'demo.db');
  const c = capture();
  t.equal(await runReplicaDemo({ replica, leads: 200 }, c.io), 0);
  t.match(c.out[0], /wrote demo data: 3 tenants, .* 200 leads$/);
  t.equal(count(replica), 200);
});

t.test('--if-absent keeps an existing file', async (t) => {
  const replica = join(t.testdir(), 'demo.db');
  await runReplicaDemo({ replica, leads: 100 }, capture().io);
  const before = statSync(replica);
  const c = capture();
  t.equal(await runReplicaDemo({ replica, ifAbsent: true, leads: 300 }, c.io), 0);
  t.match(c.out, [/exists; kept it/]);
  t.equal(statSync(replica).ino, before.ino);
  t.equal(count(replica), 100);
});

t.test('without --if-absent an existing file is replaced atomically', async (t) => {
  const replica = join(t.testdir(), 'demo.db');
  await runReplicaDemo({ replica, leads: 100 }, capture().io);
  t.equal(await runReplicaDemo({ replica, leads: 150 }, capture().io), 0);
  t.equal(count(replica), 150);
});

t.test('failures are exit 1 with a message', async (t) => {
  const dir = t.testdir();
  writeFileSync(join(dir, 'file'), 'x');
  const rows: { name: string; args: { replica: string; leads?: number }; err: RegExp }[] = [
    { name: 'bad --leads', args: { replica: join(dir, 'a.db'), leads: 0 }, err: /--leads must be a positive integer/ },
    { name: 'parent is a file', args: { replica: join(dir, 'file', 'a.db'), leads: 10 }, err: /cannot write/ },
  ];
  for (const row of rows) {
    const c = capture();
    t.equal(await runReplicaDemo(row.args, c.io), 1, row.name);
    t.match(c.err[0], row.err, row.name);
  }
});
