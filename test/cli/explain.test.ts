import t from 'tap';
import { join } from 'node:path';
import { runExplain } from '../../src/cli/explain.js';
import { ConfigSchema } from '../../src/config/schema.js';
import { buildReplica, type ReplicaSpec } from '../fixtures/replica.js';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) }, out, err };
}

const SPEC: ReplicaSpec = {
  carriers: [
    { id: 'c1', name: 'gw1', tenantId: 't1', origin: 'tenant' },
    { id: 'c2', name: 'gw2', tenantId: 't1', origin: 'tenant', callerIdFormat: '+E164' },
    { id: 'c3', name: 'gw3', tenantId: 't1', origin: 'tenant', status: 'archived' },
    { id: 'p1', name: 'platform1', origin: 'platform' },
  ],
  routes: [
    { id: 'r1', prefix: '1415', carrierId: 'c1', priority: 10, stripPrefix: '1' },
    { id: 'r2', prefix: '1', carrierId: 'c2', priority: 20 },
    { id: 'r3', prefix: '1', carrierId: 'c3', priority: 5 },
    { id: 'r4', regex: '^(1+)+$', carrierId: 'c1', priority: 1 },
  ],
  campaigns: [
    { id: 'camp1', stirShakenAttestation: 'B' },
    { id: 'camp2', metadata: { carrier_id: 'p1' } },
    { id: 'camp3', metadata: '{not json' },
  ],
  leadLists: [{ id: 'list1', callerId: '+12125550100' }],
  leads: [{ id: 'lead1', primaryPhone: '+1 415 555 0123' }, { id: 'lead2', primaryPhone: '+1 999' }],
};

/** The STIR/SHAKEN fragment (issue 5) each candidate carries: default header mode, the campaign's level B. */
const HEADER_B = {
  mode: 'header', level: 'B', requested_level: 'B', downgraded: false, header: 'P-Attestation-Indicator',
  problems: [], passport: null, error: null,
};

t.test('--json prints exactly the documented shape', async (t) => {
  const path = buildReplica(t.testdir(), SPEC);
  const c = capture();
  const code = await runExplain({ replica: path, campaign: 'camp1', lead: 'lead1', json: true }, c.io);
  t.equal(code, 0);
  t.same(c.err, []);
  t.equal(c.out.length, 1);
  t.strictSame(JSON.parse(c.out[0]!), {
    ok: true,
    error: null,
    tenant_id: 't1',
    campaign_id: 'camp1',
    lead_id: 'lead1',
    destination: '14155550123',
    caller_id: '12125550100',
    attestation: 'B',
    forced_carrier: null,
    candidates: [
      { carrier_id: 'c1', carrier_name: 'gw1', route_id: 'r1', number: '4155550123', caller_id: '12125550100', dial_string: 'sofia/gateway/gw1/4155550123', identity: HEADER_B },
      { carrier_id: 'c2', carrier_name: 'gw2', route_id: 'r2', number: '14155550123', caller_id: '+12125550100', dial_string: 'sofia/gateway/gw2/14155550123', identity: HEADER_B },
    ],
    skipped: [
      { route_id: 'r3', carrier_id: 'c3', reason: 'carrier_archived' },
      { route_id: 'r4', carrier_id: 'c1', reason: 'regex_unsafe' },
    ],
  });
});

t.test('forced carrier and metadata fallback', async (t) => {
  const path = buildReplica(t.testdir(), SPEC);
  const used = capture();
  t.equal(await runExplain({ replica: path, campaign: 'camp2', lead: 'lead1', json: true }, used.io), 0);
  const u = JSON.parse(used.out[0]!);
  t.same(u.forced_carrier, { carrier_id: 'p1', outcome: 'used' });
  t.same(u.candidates.map((c: { route_id: string | null }) => c.route_id), [null]);

  const failover = capture();
  const config = ConfigSchema.parse({ routing: { forced_failover_to_routes: true, max_attempts: 2 } });
  t.equal(await runExplain({ replica: path, campaign: 'camp2', lead: 'lead1', json: true, config }, failover.io), 0);
  const f = JSON.parse(failover.out[0]!);
  t.same(f.candidates.map((c: { carrier_id: string }) => c.carrier_id), ['p1', 'c1']);
  t.same(f.skipped.map((s: { route_id: string; reason: string }) => [s.route_id, s.reason]), [
    ['r3', 'carrier_archived'], ['r2', 'max_attempts'], ['r4', 'regex_unsafe'],
  ]);

  const invalid = capture();
  t.equal(await runExplain({ replica: path, campaign: 'camp3', lead: 'lead1', json: true }, invalid.io), 0);
  t.same(JSON.parse(invalid.out[0]!).forced_carrier, { carrier_id: null, outcome: 'metadata_invalid' });
});

t.test('decision errors exit 1 with the code', async (t) => {
  const path = buildReplica(t.testdir(), SPEC);
  const rows: [string, string, string | undefined, string][] = [
    ['nope', 'lead1', undefined, 'campaign_not_found'],
    ['camp1', 'nope', undefined, 'lead_not_found'],
    ['camp1', 'lead2', undefined, 'invalid_destination'],
    ['camp1', 'lead1', 't2', 'tenant_mismatch'],
  ];
  for (const [campaign, lead, tenant, want] of rows) {
    const c = capture();
    t.equal(await runExplain({ replica: path, campaign, lead, tenant, json: true }, c.io), 1, want);
    t.equal(JSON.parse(c.out[0]!).error.code, want);
    const h = capture();
    t.equal(await runExplain({ replica: path, campaign, lead, tenant, json: false }, h.io), 1);
    t.match(h.out.join('\n'), `ERROR ${want}`);
  }
});

t.test('human output lists candidates and every skipped route with the reason', async (t) => {
  const path = buildReplica(t.testdir(), SPEC);
  const c = capture();
  t.equal(await runExplain({ replica: path, campaign: 'camp1', lead: 'lead1', json: false }, c.io), 0);
  const text = c.out.join('\n');
  t.match(text, /destination\s+\+14155550123/);
  t.match(text, /sofia\/gateway\/gw1\/4155550123/);
  t.match(text, /r3\s+c3\s+carrier_archived\s+carrier status is archived/);
  t.match(text, /r4\s+c1\s+regex_unsafe/);
});

t.test('hostile IDs are escaped in human output', async (t) => {
  const path = buildReplica(t.testdir(), {
    ...SPEC,
    campaigns: [{ id: 'camp\u001b[2J', metadata: { carrier_id: 'x\r\nforged line' } }],
  });
  const c = capture();
  t.equal(await runExplain({ replica: path, campaign: 'camp\u001b[2J', lead: 'lead1', json: false }, c.io), 0);
  for (const line of c.out) t.notMatch(line, /[\x00-\x1f]/, 'no control characters reach the terminal');
});

t.test('usage and replica problems exit 2', async (t) => {
  const dir = t.testdir({ 'garbage.db': 'not a database' });
  const rows: [string, string, string][] = [
    ['missing file', join(dir, 'absent.db'), 'camp1'],
    ['not sqlite', join(dir, 'garbage.db'), 'camp1'],
    ['empty campaign', join(dir, 'absent.db'), ''],
  ];
  for (const [name, replica, campaign] of rows) {
    const c = capture();
    t.equal(await runExplain({ replica, campaign, lead: 'lead1', json: true }, c.io), 2, name);
    t.same(c.out, [], `${name}: nothing on stdout`);
    t.ok(c.err.length > 0, `${name}: a message on stderr`);
  }
});

t.test('bytes the sync job may store (invalid UTF-8, BLOBs, numbers in TEXT) never reach a dial string', async (t) => {
  const { openReplicaWriter } = await import('../../src/replica/writer.js');
  const { DIAL_STRING_RE } = await import('../../src/routing/dial-values.js');
  const rows: [string, string][] = [
    ['gateway name with invalid UTF-8', "UPDATE carriers SET name = CAST(x'6777ff31' AS TEXT) WHERE id = 'c1'"],
    ['gateway name as BLOB', "UPDATE carriers SET name = x'677731' WHERE id = 'c1'"],
    ['gateway name with LF', "UPDATE carriers SET name = CAST(x'6777310a' AS TEXT) WHERE id = 'c1'"],
    ['add_prefix as BLOB', "UPDATE carriers SET add_prefix = x'39' WHERE id = 'c1'"],
    ['strip_prefix as INTEGER', "UPDATE outbound_routes SET strip_prefix = 1 WHERE id = 'r1'"],
    ['priority as TEXT', "UPDATE outbound_routes SET priority = 'high' WHERE id = 'r1'"],
    ['primary_phone as INTEGER', "UPDATE leads SET primary_phone = 14155550123 WHERE id = 'lead1'"],
    ['primary_phone invalid UTF-8', "UPDATE leads SET primary_phone = CAST(x'2b31343135ff' AS TEXT) WHERE id = 'lead1'"],
    ['caller_id as BLOB', "UPDATE lead_lists SET caller_id = x'2b3132313235353530313030' WHERE id = 'list1'"],
  ];
  for (const [name, sql] of rows) {
    const path = buildReplica(t.testdir(), SPEC);
    const w = openReplicaWriter(path);
    w.db.prepare(sql).run();
    w.close();
    const c = capture();
    const code = await runExplain({ replica: path, campaign: 'camp1', lead: 'lead1', json: true }, c.io);
    t.ok(code === 0 || code === 1, `${name}: a decision, not a crash`);
    const json = JSON.parse(c.out[0]!);
    for (const cand of json.candidates) t.match(cand.dial_string, DIAL_STRING_RE, `${name}: ${cand.dial_string}`);
    if (name.startsWith('gateway')) t.notOk(json.candidates.some((x: { carrier_id: string }) => x.carrier_id === 'c1'), `${name}: carrier skipped`);
  }
});
