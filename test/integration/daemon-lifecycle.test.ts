/**
 * Issue 4 at the process level: the BUILT daemon's life as systemd runs it. Start line (effective config, no
 * secret), one summary line per call and nothing else at info, SIGTERM drain of a live call (no new sessions,
 * exit 0), grace expiry (exit 1, FreeSWITCH keeps the bridged call), a second SIGTERM (exit 1 at once).
 */
import t from 'tap';
import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NODE_FLAGS } from '../../src/node-flags.js';
import { buildReplica } from '../fixtures/replica.js';
import { FakeFreeSwitch } from '../fake-freeswitch/fake-freeswitch.js';
import { startDaemon, type DaemonProcess } from '../support/daemon-process.js';
import { answered, summaryOf } from './peer.js';

const VARS = { variables: { g2d_campaign_id: 'camp1', g2d_lead_id: 'lead1' } };

function world(dir: string): string {
  return buildReplica(dir, {
    carriers: [{ id: 'c_hold', name: 'carrier_hold' }, { id: 'c_quick', name: 'carrier_quick' }],
    routes: [{ id: 'r1', prefix: '1', carrierId: 'c_hold', priority: 1 }, { id: 'r2', prefix: '4', carrierId: 'c_quick', priority: 1 }],
    campaigns: [{ id: 'camp1', stirShakenAttestation: 'A' }],
    leadLists: [{ id: 'list1', callerId: '+12125550100' }],
    leads: [{ id: 'lead1', primaryPhone: '+14155550123' }, { id: 'lead_uk', primaryPhone: '+44 20 7946 0001' }],
  });
}

/** carrier_hold answers and holds the call until a party hangs up; carrier_quick's callee hangs up at once. */
function fake(d: DaemonProcess): FakeFreeSwitch {
  return new FakeFreeSwitch({
    daemonPort: d.eslPort, timeScale: 0.01,
    gateways: { carrier_hold: { type: 'answer', afterMs: 10 }, carrier_quick: { type: 'answer', afterMs: 10, hangupAfterMs: 10 } },
  });
}

t.test('start line, quiet info logs, SIGTERM drains a live call and exits 0', async (t) => {
  const dir = t.testdir();
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const keyFile = join(dir, 'signing-key.pem');
  writeFileSync(keyFile, pem, { mode: 0o600 });
  const d = await startDaemon({
    dir, replica: world(dir),
    config: {
      shutdown: { grace_seconds: 30 }, identity: { signing: { key_file: keyFile, x5u: 'https://cert.example.org/sp.pem' } },
      // The minutely stats line is periodic, not per call: keep it out of the per-call line count.
      jobs: { stats_cron: '0 0 0 1 1 *' },
    },
  });
  t.teardown(() => d.stop());
  const fs = fake(d);
  t.teardown(() => fs.close());

  // The start line carries the effective config: where the key lives, never what it is.
  const ready = d.logs.find((l) => l.msg === 'callrouter ready')!;
  t.match(ready, { level: 'info', ready: true, esl_scanner: 'simd', config: { identity: { signing: { key_file: keyFile, x5u: 'https://cert.example.org/sp.pem' } }, shutdown: { grace_seconds: 30 } } });
  const keyBody = pem.split('\n').filter((l) => l !== '' && !l.startsWith('-----')).join('');
  const stdout = JSON.stringify(d.logs);
  t.notOk(/PRIVATE KEY|BEGIN /.test(stdout), 'no PEM armour in any log line');
  t.notOk(stdout.includes(keyBody.slice(0, 24)), 'no key material in any log line');

  // Info level: one line per call (its summary), nothing per message.
  const startLines = d.logs.length;
  const quick = [];
  for (let i = 0; i < 3; i++) quick.push(await fs.call({ variables: { g2d_campaign_id: 'camp1', g2d_lead_id: 'lead_uk' } }));
  for (const r of quick) await summaryOf(d, r.uuid);
  // (A job's "tick missed" warning on a loaded machine is not call traffic.)
  const callLines = d.logs.slice(startLines).filter((l) => l['component'] !== 'jobs');
  t.same(callLines.map((l) => l.msg), ['call', 'call', 'call'], 'exactly one line per call');
  t.same(quick.map((r) => r.frames.length > 5), [true, true, true], 'while each call exchanged many frames');

  // A live call: answered and held.
  const live = fs.startCall(VARS);
  await answered(live);
  t.equal(await d.metric('callrouter_active_sessions'), 1);

  d.kill('SIGTERM');
  await d.waitForLog((l) => l.msg === 'shutting down: draining calls');
  // The listener is closed while the call drains: FreeSWITCH's socket app fails to connect and its dialplan
  // continues (the fallback action). The refusal is at TCP level, so the shutting_down counter does not move.
  const late = await fs.call(VARS);
  t.equal(late.connectReceived, false, 'no connect: the late call was never handled');
  t.same(late.frames, []);
  t.equal(late.dialplanContinued, true);
  t.equal(await d.metric('callrouter_sessions_refused_total{reason="shutting_down"}'), 0, 'refused by the closed listener (TCP), not counted');
  const readyz = await d.http('/readyz');
  t.equal(readyz.status, 503, 'not ready while draining');
  t.match(JSON.parse(readyz.body), { status: 'not_ready', checks: { esl: { ok: false } } });
  t.equal(live.record.closedBy, undefined, 'the live call is untouched by the drain');

  // The call ends on its own within the grace period (the party hangs up), then the daemon exits 0.
  live.hangup('NORMAL_CLEARING');
  const rec = await live.done;
  t.equal(rec.exitReceived, true);
  t.match(await summaryOf(d, rec.uuid), { outcome: 'answered' });
  t.same(await d.exited, { code: 0, signal: null });
  t.match(d.logs.find((l) => l.msg === 'callrouter stopped'), { drained: true });
  t.notOk(d.logs.some((l) => 'missing_node_flags' in l), 'started with production\'s node flags: no warning about them');
});

t.test('started without the node flags: one warning naming them, and it still serves', async (t) => {
  const dir = t.testdir();
  const d = await startDaemon({ dir, replica: world(dir), nodeFlags: [] });
  t.teardown(() => d.stop());
  const warn = await d.waitForLog((l) => 'missing_node_flags' in l);
  t.match(warn, { level: 'warn', missing_node_flags: [...NODE_FLAGS] });
  t.match(warn.msg, /full collection/);
  const fs = fake(d);
  t.teardown(() => fs.close());
  const rec = await fs.call({ variables: { g2d_campaign_id: 'camp1', g2d_lead_id: 'lead_uk' } });
  t.match(await summaryOf(d, rec.uuid), { outcome: 'answered' });
  t.equal(d.logs.filter((l) => 'missing_node_flags' in l).length, 1, 'once, at start');
});

t.test('grace expiry: the held call is cut, exit 1; FreeSWITCH keeps the bridged call', async (t) => {
  const dir = t.testdir();
  const d = await startDaemon({ dir, replica: world(dir), config: { shutdown: { grace_seconds: 1 } } });
  t.teardown(() => d.stop());
  const fs = fake(d);
  t.teardown(() => fs.close());
  const live = fs.startCall(VARS);
  await answered(live);

  d.kill('SIGTERM');
  t.same(await d.exited, { code: 1, signal: null });
  t.ok(d.logs.some((l) => l.msg === 'grace period over: cutting the remaining calls' && l['active_sessions'] === 1));
  const stopped = d.logs.find((l) => l.msg === 'callrouter stopped');
  t.match(stopped, { drained: false });
  t.equal(live.record.closedBy, 'daemon', 'the session was destroyed');
  t.equal(live.record.hangupCause, undefined, 'the A-leg was not hung up: a bridged call outlives its socket (NOTES §9)');
  t.equal(fs.activeCalls, 1, 'the call is still up on the switch');
  const summary = d.logs.find((l) => l.msg === 'call' && l['call_uuid'] === live.uuid);
  t.match(summary, { outcome: 'answered', hangup_cause: null }, 'its summary line was flushed before exit');
  // Logged before the stop line (the drain waits for handlers). Compared by log time: on a pipe the two writes
  // can reach the reader in either order.
  t.ok(String(summary?.['time']) <= String(stopped?.['time']), 'the cut call was reported before "callrouter stopped"');
});

t.test('a second SIGTERM during the drain exits 1 without waiting for the grace period', async (t) => {
  const dir = t.testdir();
  const d = await startDaemon({ dir, replica: world(dir), config: { shutdown: { grace_seconds: 600 } } });
  t.teardown(() => d.stop());
  const fs = fake(d);
  t.teardown(() => fs.close());
  const live = fs.startCall(VARS);
  await answered(live);

  d.kill('SIGTERM');
  await d.waitForLog((l) => l.msg === 'shutting down: draining calls');
  const t0 = Date.now();
  d.kill('SIGTERM');
  t.same(await d.exited, { code: 1, signal: null });
  const ms = Date.now() - t0;
  t.comment(`second SIGTERM to exit: ${ms} ms`);
  t.ok(ms < 60_000, 'far inside the 600 s grace period');
  t.ok(d.logs.some((l) => l.msg === 'second signal: exiting now'));
});
