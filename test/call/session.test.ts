import t from 'tap';
import { compactVerify } from 'jose';
import { GATEWAYS, harness, PUBLIC_KEY, VARS, world, X5U } from './harness.js';
import { parseVarBlock } from '../fake-freeswitch/dial-string.js';

const CLI = '12125550100';
const DEST = '14155550123';
const dial = (gw: string, extra = '', cidName = CLI) =>
  `{originate_timeout=45}[${extra}leg_progress_timeout=6,origination_caller_id_number=${CLI},` +
  `origination_caller_id_name=${cidName},sip_cid_type=pid]sofia/gateway/${gw}/${DEST}`;

t.test('two routes: the first fails 503, the second answers', async (t) => {
  const h = await harness(t, { gateways: GATEWAYS });
  const rec = await h.fs.call({ variables: VARS });
  await h.settled();
  t.same(rec.bridges.map((b) => b.dialString), [dial('carrier_dead'), dial('carrier_a')]);
  t.same(rec.attemptedGateways, ['carrier_dead', 'carrier_a']);
  const cmds = rec.commands;
  t.same(cmds.slice(0, 4), ['connect', 'linger 20', `filter Unique-ID ${rec.uuid}`,
    'event json CHANNEL_EXECUTE_COMPLETE CHANNEL_PROGRESS CHANNEL_PROGRESS_MEDIA CHANNEL_ANSWER CHANNEL_BRIDGE CHANNEL_HANGUP CHANNEL_HANGUP_COMPLETE']);
  t.notOk(cmds.some((c) => /\bALL\b/.test(c) || c === 'linger'), 'never event ALL, never bare linger');
  t.same(rec.executes.map((e) => [e.app, e.eventLock, e.nestedInBridge, e.afterHangup]), [
    ['multiset', false, false, false], ['bridge', false, false, false], ['multiset', false, false, false], ['bridge', false, false, false],
  ]);
  t.equal(rec.executes[0]?.arg, 'continue_on_fail=true hangup_after_bridge=true sip_copy_custom_headers=false');
  t.match(rec.executes[2]?.arg, /^sip_invite_failure_status= /);
  t.equal(rec.exitReceived, true);
  t.equal(rec.hangupCause, 'NORMAL_CLEARING');
  t.notOk(rec.moduleUnloadAttempt);
  const [summary] = h.summaries();
  t.match(summary, {
    outcome: 'answered', code: null, decision_source: 'route', candidates: ['carrier_dead', 'carrier_a'],
    call_uuid: rec.uuid, campaign_id: 'camp1', lead_id: 'lead1', tenant_id: 't1',
    attempts: [
      { carrier: 'carrier_dead', sip_status: 503, cause: 'NORMAL_TEMPORARY_FAILURE', result: 'unavailable' },
      { carrier: 'carrier_a', sip_status: null, cause: 'SUCCESS', result: 'answered' },
    ],
  });
  t.equal(await h.counter('callrouter_calls_total', { outcome: 'answered' }), 1);
  t.equal(await h.counter('callrouter_failovers_total', { from_carrier: 'carrier_dead' }), 1);
  t.equal(await h.counter('callrouter_bridge_attempts_total', { carrier: 'carrier_a', result: 'answered' }), 1);
  t.equal(await h.counter('callrouter_route_decisions_total', { source: 'route' }), 1);
  t.equal(h.activeSessions(), 0);
});
