/**
 * The built daemon as an operator runs it: spawned from dist/, a replica file, FreeSWITCH's outbound socket
 * (the fake peer) and the metrics endpoint. Proves the composition (main → app → server → session → metrics).
 */
import t from 'tap';
import { buildReplica } from '../fixtures/replica.js';
import { FakeFreeSwitch } from '../fake-freeswitch/fake-freeswitch.js';
import { startDaemon } from '../support/daemon-process.js';

t.test('one call through the built daemon: route, dial string, metrics, summary line', async (t) => {
  const dir = t.testdir();
  const replica = buildReplica(dir, {
    carriers: [{ id: 'c-a', name: 'carrier_a' }],
    routes: [{ id: 'r1', prefix: '1', carrierId: 'c-a', priority: 10 }],
    campaigns: [{ id: 'camp1', stirShakenAttestation: 'A' }],
    leadLists: [{ id: 'list1', callerId: '+12125550100' }],
    leads: [{ id: 'lead1', primaryPhone: '+1 (212) 555-0111' }],
  });
  const d = await startDaemon({ dir, replica });
  t.teardown(() => d.stop());
  const fs = new FakeFreeSwitch({ daemonPort: d.eslPort, timeScale: 0.01, gateways: { carrier_a: { type: 'answer', afterMs: 100, hangupAfterMs: 100 } } });
  t.teardown(() => fs.close());

  const record = await fs.call({ variables: { g2d_campaign_id: 'camp1', g2d_lead_id: 'lead1' } });
  t.equal(record.bridges.length, 1);
  const leg = record.bridges[0]!.legs[0]!;
  t.equal(leg.gateway, 'carrier_a');
  t.equal(leg.number, '12125550111');
  t.equal(leg.vars['origination_caller_id_number'], '12125550100');
  t.equal(leg.vars['sip_h_P-Attestation-Indicator'], 'A');
  t.equal(record.bridges[0]!.outcome, 'answered');
  t.equal(record.exitReceived, true);

  const summary = await d.waitForLog((l) => l.msg === 'call');
  t.equal(summary['outcome'], 'answered');
  t.equal(summary['call_uuid'], record.uuid);
  t.equal(summary['campaign_id'], 'camp1');
  t.equal(await d.metric('callrouter_calls_total{outcome="answered"}'), 1);
  t.equal(await d.metric('callrouter_bridge_attempts_total{carrier="carrier_a",result="answered"}'), 1);
  t.equal(await d.metric('callrouter_active_sessions'), 0);
  t.equal((await d.http('/readyz')).status, 200);

  d.kill('SIGTERM');
  t.same(await d.exited, { code: 0, signal: null });
});
