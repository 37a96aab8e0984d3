import t from 'tap';
import { connect } from 'node:net';
import type { CallHandle } from '../fake-freeswitch/fake-freeswitch.js';
import { connectReply } from '../hostile/support/scripted-peer.js';
import { GATEWAYS, harness, VARS } from './harness.js';

t.test('the caller hangs up while the decision runs: no bridge runs, outcome caller_hangup', async (t) => {
  let handle: CallHandle | undefined;
  const h = await harness(t, { gateways: GATEWAYS, onPlan: () => handle?.hangup('ORIGINATOR_CANCEL') });
  handle = h.fs.startCall({ variables: VARS });
  const rec = await handle.done;
  await h.settled();
  t.ok(rec.executes.every((e) => e.afterHangup), 'anything sent after the hangup was never run');
  t.same(rec.attemptedGateways, []);
  t.equal(rec.hangupCause, 'ORIGINATOR_CANCEL');
  t.match(h.summaries()[0], { outcome: 'caller_hangup', code: null });
  t.equal(h.activeSessions(), 0);
});

t.test('the caller hangs up while the bridge rings: no second attempt', async (t) => {
  const h = await harness(t, { gateways: { ...GATEWAYS, carrier_dead: { type: 'ring', progress: 180 } } });
  const handle = h.fs.startCall({ variables: VARS });
  // Hang up once the carrier leg is ringing (polling the fake's record; no fixed delay).
  for (let i = 0; i < 1000 && handle.record.attemptedGateways.length === 0; i++) await new Promise((r) => setTimeout(r, 2));
  handle.hangup('ORIGINATOR_CANCEL');
  const rec = await handle.done;
  await h.settled();
  t.same(rec.attemptedGateways, ['carrier_dead']);
  t.equal(rec.bridges.length, 1);
  t.match(h.summaries()[0], { outcome: 'caller_hangup', caller_hangup: true, attempts: [{ carrier: 'carrier_dead' }] });
  t.equal(await h.counter('callrouter_calls_total', { outcome: 'caller_hangup' }), 1);
  t.equal(h.activeSessions(), 0);
});

t.test('the caller hangs up right after connect (before linger): caller_hangup, clean end', async (t) => {
  const h = await harness(t, { gateways: GATEWAYS });
  const rec = await h.fs.call({ variables: VARS, hangupAt: 'connected' });
  await h.settled();
  t.same(rec.attemptedGateways, []);
  t.match(h.summaries()[0], { outcome: 'caller_hangup' });
  t.equal(h.activeSessions(), 0);
});

t.test('the caller hangs up during an answered call: outcome stays answered', async (t) => {
  const h = await harness(t, { gateways: { ...GATEWAYS, carrier_dead: { type: 'answer', afterMs: 10 } } });
  const rec = await h.fs.call({ variables: VARS, hangupAt: 'answered' });
  await h.settled();
  t.same(rec.attemptedGateways, ['carrier_dead']);
  t.match(h.summaries()[0], { outcome: 'answered' });
  t.equal(h.activeSessions(), 0);
});

const drops: Array<['connected' | 'bridge' | 'answered', string, string | null]> = [
  ['connected', 'error', 'esl_failure'],
  ['bridge', 'error', 'esl_failure'],
  ['answered', 'answered', null],
];
for (const [step, outcome, code] of drops) {
  t.test(`the peer drops TCP at ${step}: the session ends cleanly (${outcome})`, async (t) => {
    const h = await harness(t, { gateways: GATEWAYS });
    await h.fs.call({ variables: VARS, dropAt: step });
    await h.settled();
    t.match(h.summaries()[0], { outcome, code });
    t.equal(h.activeSessions(), 0);
  });
}

t.test('the peer drops TCP while the A-leg variables are being set', async (t) => {
  let handle: CallHandle | undefined;
  const h = await harness(t, { gateways: GATEWAYS, onPlan: () => handle?.drop() });
  handle = h.fs.startCall({ variables: VARS });
  const rec = await handle.done;
  await h.settled();
  t.same(rec.attemptedGateways, []);
  t.match(h.summaries()[0], { outcome: 'error', code: 'esl_failure' });
  t.equal(h.activeSessions(), 0);
});

t.test('the peer drops before the connect reply', async (t) => {
  const h = await harness(t, { gateways: GATEWAYS });
  await h.fs.call({ variables: VARS, dropAt: 'connect' });
  await h.settled();
  t.match(h.summaries()[0], { outcome: 'error', code: 'esl_failure', esl_detail: 'connect: closed' });
  t.equal(h.activeSessions(), 0);
});

t.test('many concurrent calls: every session ends, the count returns to 0', async (t) => {
  const h = await harness(t, { gateways: GATEWAYS });
  const recs = await Promise.all(Array.from({ length: 20 }, () => h.fs.call({ variables: VARS })));
  await h.settled();
  t.equal(recs.filter((r) => r.exitReceived).length, 20);
  t.equal(await h.counter('callrouter_calls_total', { outcome: 'answered' }), 20);
  t.equal(h.activeSessions(), 0);
});

t.test('a bridge that never completes within the attempt bound: hang up ALLOTTED_TIMEOUT, no failover', async (t) => {
  // The session's bound is (45 + 6 + 10) s scaled to 61 ms; the fake rings 45 s scaled to 450 ms.
  const h = await harness(t, { gateways: { ...GATEWAYS, carrier_dead: { type: 'ring', progress: 180 } }, sessionTimeScale: 0.001 });
  const rec = await h.fs.call({ variables: VARS });
  await h.settled();
  t.same(rec.attemptedGateways, ['carrier_dead']);
  t.equal(rec.hangupCause, 'ALLOTTED_TIMEOUT');
  t.match(h.summaries()[0], { outcome: 'failed', attempts: [{ cause: 'ALLOTTED_TIMEOUT', result: 'timeout' }] });
  t.ok(h.logs.some((l) => l['msg'] === 'bridge did not complete within the attempt bound; hanging up'));
  t.equal(h.activeSessions(), 0);
});

t.test('the connection breaks in the same read as the connect reply: esl_failure, never a routing outcome', async (t) => {
  // The reply and a frame that breaks the protocol arrive together: the connection is closed before the session
  // has read the reply, so no carrier may be tried and the outcome must name the socket, not the routing.
  const h = await harness(t, { gateways: GATEWAYS });
  const peer = connect(h.port, '127.0.0.1');
  peer.on('error', () => {});
  await new Promise<void>((resolve) => peer.once('data', () => resolve()));
  peer.write(`${connectReply('broken-1', VARS)}Content-Type: text/event-json\nContent-Length: -1\n\n`);
  await new Promise<void>((resolve) => peer.once('close', () => resolve()));
  await h.settled();
  t.match(h.summaries()[0], { outcome: 'error', code: 'esl_failure', attempts: [] });
  t.equal(h.activeSessions(), 0);
});
