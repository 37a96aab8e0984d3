/**
 * Configuration at the process level: a bad config stops `serve` before any socket with ONE stderr message
 * naming the key (exit 2); SIGHUP applies a good new config (observable in routing and logging) and rejects a
 * bad one with an error line while the old config keeps serving.
 */
import t from 'tap';
import type { Test } from 'tap';
import { createServer, type Server } from 'node:net';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildReplica } from '../fixtures/replica.js';
import { FakeFreeSwitch } from '../fake-freeswitch/fake-freeswitch.js';
import { runCli, startDaemon } from '../support/daemon-process.js';
import { summaryOf } from './peer.js';

/** Holds a free port open; a daemon that tried to bind it would fail with listen_failed, not a config error. */
async function holdPort(t: Test): Promise<number> {
  const srv: Server = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => srv.close(() => r())));
  return (srv.address() as { port: number }).port;
}

const badConfigs: Array<[string, Record<string, unknown>, Record<string, string>, RegExp]> = [
  ['unknown key', { esl: { max_sesions: 5 } }, {}, /^callrouter: invalid configuration: esl\.max_sesions: unknown key$/],
  ['bad value', { shutdown: { grace_seconds: -1 } }, {}, /^callrouter: invalid configuration: shutdown\.grace_seconds: .+$/],
  ['bad environment value', {}, { CALLROUTER_MAX_SESSIONS: 'abc' }, /^callrouter: invalid configuration: CALLROUTER_MAX_SESSIONS: must be an integer, got "abc"$/],
];
t.test('bad config: exit 2, one stderr line naming the key, nothing started', async (t) => {
  // The three runs are independent: run them side by side (each is a node start-up).
  const root = t.testdir();
  const results = await Promise.all(badConfigs.map(async ([name, config, env]) => {
    const dir = join(root, name.replace(/ /g, '-'));
    mkdirSync(dir, { recursive: true });
    const [esl, metrics] = [await holdPort(t), await holdPort(t)];
    const file = join(dir, 'config.json');
    writeFileSync(file, JSON.stringify({ replica: { path: join(dir, 'none.db') }, esl: { listen: `127.0.0.1:${esl}` }, metrics: { listen: `127.0.0.1:${metrics}` }, ...config }));
    return runCli(['serve', '--config', file], { cwd: dir, env });
  }));
  for (const [i, [name, , , message]] of badConfigs.entries()) {
    const r = results[i]!;
    t.equal(r.code, 2, `${name}: exit 2`);
    t.equal(r.stdout, '', `${name}: no log line (the logger, listeners and replica were never set up)`);
    const lines = r.stderr.split('\n').filter((l) => l !== '');
    t.equal(lines.length, 1, `${name}: one message`);
    t.match(lines[0], message, `${name}: names the key`);
  }
});

t.test('SIGHUP: a good config applies, a bad one is rejected and the old one keeps serving', async (t) => {
  const dir = t.testdir();
  const replica = buildReplica(dir, {
    carriers: [{ id: 'c_dead', name: 'carrier_dead' }, { id: 'c_a', name: 'carrier_a' }],
    routes: [{ id: 'r1', prefix: '1', carrierId: 'c_dead', priority: 1 }, { id: 'r2', prefix: '1', carrierId: 'c_a', priority: 2 }],
    campaigns: [{ id: 'camp1' }],
    leadLists: [{ id: 'list1', callerId: '+12125550100' }],
    leads: [{ id: 'lead1', primaryPhone: '+14155550123' }],
  });
  const d = await startDaemon({ dir, replica, config: { routing: { max_attempts: 3 } } });
  t.teardown(() => d.stop());
  const fs = new FakeFreeSwitch({
    daemonPort: d.eslPort, timeScale: 0.01,
    gateways: { carrier_dead: { type: 'fail', status: 503 }, carrier_a: { type: 'answer', afterMs: 10, hangupAfterMs: 10 } },
  });
  t.teardown(() => fs.close());
  const call = () => fs.call({ variables: { g2d_campaign_id: 'camp1', g2d_lead_id: 'lead1' } });
  const hup = async (n: number, msg: string) => {
    d.kill('SIGHUP');
    await d.waitForLog((l) => l.msg === msg && d.logs.filter((x) => x.msg === msg).length >= n);
  };

  const first = await call();
  t.same(first.attemptedGateways, ['carrier_dead', 'carrier_a'], 'max_attempts 3: fails over');

  d.writeConfig({ routing: { max_attempts: 1 } });
  await hup(1, 'SIGHUP: configuration reloaded');
  const second = await call();
  t.same(second.attemptedGateways, ['carrier_dead'], 'max_attempts 1 applied: no second carrier');
  t.equal(second.hangupCause, 'NORMAL_TEMPORARY_FAILURE');
  t.match(await summaryOf(d, second.uuid), { outcome: 'failed', candidates: ['carrier_dead'] });

  d.writeConfig({ routing: { max_attempts: 3, max_atempts: 2 } });
  await hup(1, 'SIGHUP: new configuration rejected; keeping the old one');
  const rejected = d.logs.find((l) => l.msg === 'SIGHUP: new configuration rejected; keeping the old one')!;
  t.equal(rejected.level, 'error');
  t.match(rejected['err'], { message: /routing\.max_atempts: unknown key/ });
  const third = await call();
  t.same(third.attemptedGateways, ['carrier_dead'], 'the old config (max_attempts 1) keeps serving');

  // At warn the reload's own info confirmation is not logged; the listener warning (emitted in the same
  // synchronous reload, before the level changes) shows that it ran.
  d.writeConfig({ routing: { max_attempts: 3 }, log: { level: 'warn' }, metrics: { listen: '127.0.0.1:1' } });
  await hup(1, 'SIGHUP: listener addresses change only on restart');
  t.match(d.logs.find((l) => l.msg === 'SIGHUP: listener addresses change only on restart'), { level: 'warn', keys: ['metrics.listen'] });
  t.equal((await d.http('/healthz')).status, 200, 'the metrics listener stays where it was');
  const linesBefore = d.logs.length;
  const fourth = await call();
  t.same(fourth.attemptedGateways, ['carrier_dead', 'carrier_a']);
  await d.waitForMetric('callrouter_calls_total{outcome="answered"}', 2);
  t.same(d.logs.slice(linesBefore).filter((l) => l.level === 'info' || l.level === 'debug'), [], 'log.level warn applied: no info summary line');
  await d.waitForMetric('callrouter_active_sessions', 0);
  t.equal(d.child.exitCode, null, 'still running');
});
