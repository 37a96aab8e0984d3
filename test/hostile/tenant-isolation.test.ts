/**
 * Tenant isolation through the running daemon: another tenant's forced carrier is never used (fallback reason
 * carrier_other_tenant), another tenant's routes never match (not even on failover), and a call whose claimed
 * tenant, lead or lead list belongs to another tenant is refused (tenant_mismatch → CALL_REJECTED), with
 * nothing bridged.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import t from 'tap';
import { FakeFreeSwitch } from '../fake-freeswitch/fake-freeswitch.js';
import { buildReplica } from '../fixtures/replica.js';
import { DAEMON_ENTRY, startDaemon, type DaemonProcess } from '../support/daemon-process.js';

const run = promisify(execFile);

const ANSWER = { type: 'answer', afterMs: 20, hangupAfterMs: 20 } as const;

async function summary(d: DaemonProcess, uuid: string) {
  return d.waitForLog((l) => l.msg === 'call' && l['call_uuid'] === uuid);
}

t.test('tenant isolation through the daemon', async (t) => {
  const dir = t.testdir();
  const replica = buildReplica(dir, {
    carriers: [
      { id: 'c_t1', name: 'carrier_t1', tenantId: 't1' },
      { id: 'c_t2', name: 'carrier_t2', tenantId: 't2' },
      { id: 'c_t2_b', name: 'carrier_t2_b', tenantId: 't2' },
    ],
    routes: [
      // t1's own route is its LAST choice; t2's routes for the same prefix have better priorities.
      { id: 'r_t2_best', tenantId: 't2', prefix: '1', carrierId: 'c_t2', priority: 1 },
      { id: 'r_t2_long', tenantId: 't2', prefix: '1415', carrierId: 'c_t2_b', priority: 1 },
      { id: 'r_t1_cross', tenantId: 't1', prefix: '1', carrierId: 'c_t2', priority: 5 },
      { id: 'r_t1', tenantId: 't1', prefix: '1', carrierId: 'c_t1', priority: 10 },
    ],
    campaigns: [
      { id: 'camp1', tenantId: 't1' },
      { id: 'camp_forced', tenantId: 't1', metadata: { carrier_id: 'c_t2' } },
      { id: 'camp_t2', tenantId: 't2' },
    ],
    leadLists: [
      { id: 'list1', tenantId: 't1', callerId: '+12125550100' },
      { id: 'list_t2', tenantId: 't2', callerId: '+12125550100' },
    ],
    leads: [
      { id: 'lead1', tenantId: 't1', leadListId: 'list1', primaryPhone: '+14155550123' },
      { id: 'lead_t2', tenantId: 't2', leadListId: 'list_t2', primaryPhone: '+14155550123' },
      // A t1 lead filed in t2's list (a sync bug): the list's tenant differs.
      { id: 'lead_x', tenantId: 't1', leadListId: 'list_t2', primaryPhone: '+14155550123' },
    ],
  });
  const d = await startDaemon({ dir, replica });
  t.teardown(() => d.stop());
  const gateways = { carrier_t1: ANSWER, carrier_t2: ANSWER, carrier_t2_b: ANSWER };
  const fs = new FakeFreeSwitch({ daemonPort: d.eslPort, timeScale: 0.01, gateways });
  t.teardown(() => fs.close());
  const call = async (variables: Record<string, string>) => {
    const uuid = randomUUID();
    const record = await fs.call({ uuid, variables });
    return { record, s: await summary(d, uuid) };
  };

  t.test("another tenant's routes never match", async (t) => {
    const { record, s } = await call({ g2d_campaign_id: 'camp1', g2d_lead_id: 'lead1' });
    t.same(record.attemptedGateways, ['carrier_t1']);
    t.match(s, { outcome: 'answered', tenant_id: 't1', candidates: ['carrier_t1'] });
    // explain runs the same decide(): t2's routes are never even considered, t1's cross route is skipped.
    const { stdout } = await run(process.execPath, [DAEMON_ENTRY, 'explain', '--replica', replica, '--campaign', 'camp1', '--lead', 'lead1', '--json']);
    const e = JSON.parse(stdout) as { skipped: { route_id: string; reason: string }[]; candidates: { route_id: string }[] };
    t.same(e.candidates.map((c) => c.route_id), ['r_t1']);
    t.same(e.skipped.map((x) => [x.route_id, x.reason]), [['r_t1_cross', 'carrier_other_tenant']]);
  });

  t.test("another tenant's routes are not a failover either", async (t) => {
    const failing = new FakeFreeSwitch({ daemonPort: d.eslPort, timeScale: 0.01, gateways: { ...gateways, carrier_t1: { type: 'fail', status: 503 } } });
    t.teardown(() => failing.close());
    const uuid = randomUUID();
    const record = await failing.call({ uuid, variables: { g2d_campaign_id: 'camp1', g2d_lead_id: 'lead1' } });
    const s = await summary(d, uuid);
    t.same(record.attemptedGateways, ['carrier_t1'], 'only t1 carriers tried after a 503');
    t.not(s['outcome'], 'answered');
  });

  t.test("a forced carrier of another tenant is never used", async (t) => {
    const before = (await d.metric('callrouter_forced_carrier_fallbacks_total{reason="carrier_other_tenant"}')) ?? 0;
    const { record, s } = await call({ g2d_campaign_id: 'camp_forced', g2d_lead_id: 'lead1' });
    t.same(record.attemptedGateways, ['carrier_t1']);
    t.match(s, { outcome: 'answered', decision_source: 'route', forced_carrier: { carrier_id: 'c_t2', outcome: 'carrier_other_tenant' } });
    t.equal(await d.metric('callrouter_forced_carrier_fallbacks_total{reason="carrier_other_tenant"}'), before + 1);
    t.ok(d.logs.some((l) => l.msg === 'forced carrier not used; fell back to routes' && l['call_uuid'] === record.uuid), 'warning logged');
  });

  t.test("tenant 2's own routes still work (control)", async (t) => {
    const { record, s } = await call({ g2d_campaign_id: 'camp_t2', g2d_lead_id: 'lead_t2' });
    t.same(record.attemptedGateways, ['carrier_t2_b'], 'longest prefix first at equal priority');
    t.equal(s['outcome'], 'answered');
  });

  const rejected: [string, Record<string, string>][] = [
    ['the claimed tenant (g2d_tenant_id) differs from the campaign\'s', { g2d_campaign_id: 'camp1', g2d_lead_id: 'lead1', g2d_tenant_id: 't2' }],
    ['the lead belongs to another tenant', { g2d_campaign_id: 'camp1', g2d_lead_id: 'lead_t2' }],
    ['the lead list belongs to another tenant', { g2d_campaign_id: 'camp1', g2d_lead_id: 'lead_x' }],
    ['the campaign belongs to another tenant than the lead and the claim', { g2d_campaign_id: 'camp_t2', g2d_lead_id: 'lead1', g2d_tenant_id: 't1' }],
  ];
  for (const [name, variables] of rejected) {
    t.test(`refused: ${name}`, async (t) => {
      const before = (await d.metric('callrouter_call_errors_total{code="tenant_mismatch"}')) ?? 0;
      const { record, s } = await call(variables);
      t.equal(record.bridges.length, 0, 'nothing bridged');
      t.equal(record.hangupCause, 'CALL_REJECTED');
      t.match(s, { code: 'tenant_mismatch', hangup_cause: 'CALL_REJECTED' });
      t.equal(await d.metric('callrouter_call_errors_total{code="tenant_mismatch"}'), before + 1);
    });
  }
  t.test('the claimed tenant matching the campaign is accepted (control)', async (t) => {
    const { s } = await call({ g2d_campaign_id: 'camp1', g2d_lead_id: 'lead1', g2d_tenant_id: 't1' });
    t.equal(s['outcome'], 'answered');
  });
});
