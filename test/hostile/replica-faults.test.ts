/**
 * Replica faults while the daemon runs, with this test process acting as the sync job (a second connection /
 * a file-level writer): file deleted, replaced by rename, truncated, corrupted, held by a writer in a long
 * transaction (WAL and rollback journal), schema version too new, routes emptied; and a start without a file.
 * Each: no crash, a clear log line, /readyz and metrics reflect it, the last good index keeps serving where
 * that is safe, and calls fail `replica_unavailable` (NORMAL_TEMPORARY_FAILURE) only when no valid data can
 * be read. Waits poll bounded conditions (the watch job ticks every second); no fixed sleeps.
 */
import { randomUUID } from 'node:crypto';
import { closeSync, openSync, renameSync, rmSync, truncateSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { openReplicaWriter } from '../../src/replica/writer.js';
import { FakeFreeSwitch } from '../fake-freeswitch/fake-freeswitch.js';
import { buildReplica, type ReplicaSpec } from '../fixtures/replica.js';
import { startDaemon, type DaemonProcess, type LogLine } from '../support/daemon-process.js';

const VARS = { g2d_campaign_id: 'camp1', g2d_lead_id: 'lead1' };
const ANSWER = { type: 'answer', afterMs: 20, hangupAfterMs: 20 } as const;

const spec = (carrier = 'c_a'): ReplicaSpec => ({
  carriers: [{ id: 'c_a', name: 'carrier_a' }, { id: 'c_b', name: 'carrier_b' }],
  routes: [{ id: 'r1', prefix: '1', carrierId: carrier, priority: 10 }],
  campaigns: [{ id: 'camp1' }],
  leadLists: [{ id: 'list1', callerId: '+12125550100' }],
  leads: [{ id: 'lead1', primaryPhone: '+14155550123' }],
});

/** Polls `cond` every 50 ms up to `timeoutMs` (the watch job ticks every second). */
async function until(what: string, cond: () => Promise<boolean> | boolean, timeoutMs = 8000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface Rig {
  d: DaemonProcess;
  dir: string;
  replica: string;
  call(): Promise<{ gateways: string[]; hangupCause: string | undefined; s: LogLine }>;
  metric(sample: string): Promise<number>;
  ready(): Promise<{ status: number; body: string; gauge: number }>;
  logAfter(mark: number, pred: (l: LogLine) => boolean): Promise<LogLine>;
}

async function rig(t: Test, opts: { journalMode?: 'wal' | 'delete'; absent?: boolean } = {}): Promise<Rig> {
  const dir = t.testdir();
  const replica = opts.absent === true ? join(dir, 'replica.db') : buildReplica(dir, spec(), { journalMode: opts.journalMode ?? 'wal' });
  const d = await startDaemon({ dir, replica });
  t.teardown(() => d.stop());
  const fs = new FakeFreeSwitch({ daemonPort: d.eslPort, timeScale: 0.01, gateways: { carrier_a: ANSWER, carrier_b: ANSWER } });
  t.teardown(() => fs.close());
  return {
    d,
    dir,
    replica,
    async call() {
      const uuid = randomUUID();
      const r = await fs.call({ uuid, variables: VARS });
      const s = await d.waitForLog((l) => l.msg === 'call' && l['call_uuid'] === uuid);
      return { gateways: r.attemptedGateways, hangupCause: r.hangupCause, s };
    },
    metric: async (sample) => (await d.metric(sample)) ?? 0,
    async ready() {
      const r = await d.http('/readyz');
      return { ...r, gauge: (await d.metric('callrouter_ready')) ?? -1 };
    },
    logAfter: (mark, pred) => d.waitForLog((l) => d.logs.indexOf(l) >= mark && pred(l)),
  };
}

const reloads = (result: string): string => `callrouter_replica_reloads_total{result="${result}"}`;
const INFO = 'callrouter_replica_info{schema_version="1"}';

async function assertServing(t: Test, r: Rig, gateway = 'carrier_a'): Promise<void> {
  const c = await r.call();
  t.same(c.gateways, [gateway], `a call is answered on ${gateway}`);
  t.equal(c.s['outcome'], 'answered');
}

async function assertUnavailable(t: Test, r: Rig): Promise<void> {
  const c = await r.call();
  t.same(c.gateways, [], 'nothing bridged');
  t.match(c.s, { code: 'replica_unavailable', hangup_cause: 'NORMAL_TEMPORARY_FAILURE' });
  t.equal(c.hangupCause, 'NORMAL_TEMPORARY_FAILURE');
}

/** Publishes `next` over `path` the way a sync job should: build beside it, checkpoint, rename. */
function publish(dir: string, path: string, next: ReplicaSpec, name = 'next.db'): void {
  const tmp = buildReplica(dir, next, { file: name });
  const w = openReplicaWriter(tmp);
  w.db.pragma('wal_checkpoint(TRUNCATE)');
  w.db.pragma('journal_mode = DELETE');
  w.close();
  renameSync(tmp, path);
}

t.test('start without a file: not ready, replica_unavailable; the file appears: ready and serving', async (t) => {
  const r = await rig(t, { absent: true });
  t.ok(r.d.logs.some((l) => l.level === 'error' && /replica unavailable at start-up/.test(l.msg)), 'start-up error line');
  t.match(await r.ready(), { status: 503, gauge: 0 });
  t.equal(await r.metric(INFO), 0, 'no replica_info sample without a replica');
  await assertUnavailable(t, r);
  publish(r.dir, r.replica, spec());
  await until('ready', async () => (await r.ready()).status === 200);
  t.equal((await r.ready()).gauge, 1);
  t.equal(await r.metric(INFO), 1);
  t.ok((await r.metric(reloads('reopened'))) >= 1, 'counted as reopened');
  await assertServing(t, r);
});

t.test('file deleted: the open handle keeps serving the last good data; readiness warns', async (t) => {
  const r = await rig(t);
  const mark = r.d.logs.length;
  for (const f of ['', '-wal', '-shm']) rmSync(`${r.replica}${f}`, { force: true });
  const line = await r.logAfter(mark, (l) => l.level === 'warn' && l['code'] === 'replica_missing');
  t.match(line.msg, /serving the last good data/);
  t.ok((await r.metric(reloads('failed'))) >= 1);
  const ready = await r.ready();
  t.match(ready, { status: 200, gauge: 1 }, 'still ready: valid data is open');
  t.match(ready.body, /replica_missing/, '/readyz names the fault');
  await assertServing(t, r);
  publish(r.dir, r.replica, spec('c_b'));
  await until('the new file is served', async () => (await r.metric(reloads('reopened'))) >= 1);
  await r.logAfter(mark, (l) => l.msg === 'replica healthy again');
  await assertServing(t, r, 'carrier_b');
});

t.test('replaced atomically (rename over): the new file is served, the switch counted', async (t) => {
  const r = await rig(t);
  await assertServing(t, r);
  const mark = r.d.logs.length;
  publish(r.dir, r.replica, spec('c_b'));
  await until('reopened', async () => (await r.metric(reloads('reopened'))) >= 1);
  await r.logAfter(mark, (l) => l.msg === 'replica reloaded' && l['result'] === 'reopened');
  await assertServing(t, r, 'carrier_b');
  t.match(await r.ready(), { status: 200, gauge: 1 });
});

for (const [name, damage] of [
  ['truncated', (p: string) => truncateSync(p, 1000)],
  ['overwritten with garbage', (p: string) => {
    const fd = openSync(p, 'r+');
    writeSync(fd, Buffer.alloc(8192, 0x5a), 0, 8192, 0);
    closeSync(fd);
  }],
] as const) {
  t.test(`${name} in place: no valid data — not ready, replica_unavailable; repaired: serving again`, async (t) => {
    const r = await rig(t);
    await assertServing(t, r);
    const mark = r.d.logs.length;
    damage(r.replica);
    const line = await r.logAfter(mark, (l) => l.level === 'warn' && l['code'] === 'replica_corrupt');
    t.match(line.msg, /replica check failed/);
    await until('not ready', async () => (await r.ready()).status === 503);
    const ready = await r.ready();
    t.equal(ready.gauge, 0);
    t.match(ready.body, /replica_corrupt/);
    await assertUnavailable(t, r);
    t.equal(r.d.child.exitCode, null, 'no crash');
    publish(r.dir, r.replica, spec('c_b'));
    await until('ready again', async () => (await r.ready()).status === 200);
    await assertServing(t, r, 'carrier_b');
  });
}

t.test('WAL: a writer holding a long transaction never blocks calls', async (t) => {
  const r = await rig(t);
  const w = openReplicaWriter(r.replica);
  t.teardown(() => w.close());
  w.db.exec('BEGIN IMMEDIATE');
  w.insertRoute({ id: 'r0', tenantId: 't1', prefix: '1', carrierId: 'c_b', priority: 1 });
  w.db.exec('DELETE FROM leads');
  // The watch job ticks while the transaction is open; calls see the last committed state.
  const before = await r.metric(reloads('unchanged'));
  await until('two watch ticks', async () => (await r.metric(reloads('unchanged'))) >= before + 2);
  await assertServing(t, r);
  t.match(await r.ready(), { status: 200, gauge: 1 });
  w.db.exec('ROLLBACK');
  w.insertRoute({ id: 'r0', tenantId: 't1', prefix: '1', carrierId: 'c_b', priority: 1 });
  await assertServing(t, r, 'carrier_b');
});

t.test('rollback journal: a writer holding the EXCLUSIVE lock — calls fail replica_unavailable, then recover', async (t) => {
  const r = await rig(t, { journalMode: 'delete' });
  await assertServing(t, r);
  const w = openReplicaWriter(r.replica, { journalMode: 'delete' });
  t.teardown(() => w.close());
  const mark = r.d.logs.length;
  w.db.exec('BEGIN EXCLUSIVE');
  w.insertRoute({ id: 'r0', tenantId: 't1', prefix: '1', carrierId: 'c_b', priority: 1 });
  const line = await r.logAfter(mark, (l) => l.level === 'warn' && l['code'] === 'replica_busy');
  t.match(line['reason'], /busy|lock/i);
  await assertUnavailable(t, r);
  await until('not ready', async () => (await r.ready()).status === 503);
  t.equal(r.d.child.exitCode, null, 'no crash');
  w.db.exec('COMMIT');
  await until('ready again', async () => (await r.ready()).status === 200);
  await r.logAfter(mark, (l) => l.msg === 'replica healthy again');
  await assertServing(t, r, 'carrier_b');
});

t.test('schema version newer than the daemon: last good index and records keep serving; the fault is reported', async (t) => {
  const r = await rig(t);
  const mark = r.d.logs.length;
  const w = openReplicaWriter(r.replica);
  w.db.pragma('user_version = 2');
  w.close();
  const line = await r.logAfter(mark, (l) => l.level === 'warn' && l['code'] === 'replica_schema_newer');
  t.match(line['reason'], /schema version 2/);
  t.ok((await r.metric(reloads('failed'))) >= 1);
  const r1 = await r.ready();
  await assertServing(t, r);
  const r2 = await r.ready();
  const ticks = await r.metric(reloads('failed'));
  await until('next tick', async () => (await r.metric(reloads('failed'))) > ticks);
  const r3 = await r.ready();
  // Not ready (an operator must upgrade) — and steadily so: a served call must not flip it back.
  t.same([r1.status, r2.status, r3.status], [503, 503, 503], 'not ready before a call, after it and after the next tick');
  t.equal(r3.gauge, 0);
  t.match(r3.body, /replica_schema_newer/, '/readyz names the fault');
  t.equal(await r.metric('callrouter_replica_info{schema_version="2"}'), 1, 'replica_info shows the newer schema version');
  t.equal(r.d.child.exitCode, null, 'no crash');
});

t.test('outbound_routes emptied: the last good index keeps serving until SIGHUP accepts it', async (t) => {
  const r = await rig(t);
  const mark = r.d.logs.length;
  const w = openReplicaWriter(r.replica);
  w.deleteAll('outbound_routes');
  w.close();
  const line = await r.logAfter(mark, (l) => l.level === 'warn' && l['code'] === 'replica_routes_emptied');
  t.match(line.msg, /keeping the last good data/);
  t.ok((await r.metric(reloads('kept_last_good'))) >= 1);
  t.equal(await r.metric('callrouter_route_index_routes'), 1, 'the index still has its route');
  const ready = await r.ready();
  t.match(ready, { status: 200, gauge: 1 });
  t.match(ready.body, /replica_routes_emptied/);
  await assertServing(t, r);
  r.d.kill('SIGHUP');
  await r.logAfter(mark, (l) => l.msg === 'SIGHUP: configuration reloaded');
  t.equal(await r.metric('callrouter_route_index_routes'), 0, 'SIGHUP accepted the empty table');
  const c = await r.call();
  t.match(c.s, { code: 'no_route' }, 'an emptied table after SIGHUP is no_route, not replica_unavailable');
});
