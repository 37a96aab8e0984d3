import t from 'tap';
import { checkReplica, type Finding } from '../../src/replica/check.js';
import { openReplica } from '../../src/replica/database.js';
import { openReplicaWriter } from '../../src/replica/writer.js';
import { runReplicaCheck } from '../../src/cli/replica-check.js';
import { buildReplica, fillReplica, type ReplicaSpec } from '../fixtures/replica.js';
import { join } from 'node:path';

const CLEAN: ReplicaSpec = {
  carriers: [
    { id: 'c1', name: 'gw1', tenantId: 't1', origin: 'tenant' },
    { id: 'p1', name: 'platform1', origin: 'platform' },
  ],
  routes: [{ id: 'r1', prefix: '1', carrierId: 'c1' }, { id: 'r2', regex: '^44[0-9]{10}$', carrierId: 'p1' }],
  phoneNumbers: [{ id: 'n1', number: '+12125550100', carrierId: 'c1' }],
  campaigns: [{ id: 'camp1', stirShakenAttestation: 'A', metadata: { carrier_id: 'c1' } }],
  leadLists: [{ id: 'list1', callerId: '+12125550100' }],
  leads: [{ id: 'lead1', primaryPhone: '+14155550123' }],
};

function check(t: { testdir(): string }, spec: ReplicaSpec, extra?: (db: import('better-sqlite3').Database) => void) {
  const path = buildReplica(t.testdir(), spec);
  if (extra !== undefined) {
    const w = openReplicaWriter(path);
    extra(w.db);
    w.close();
  }
  const r = openReplica(path, { busyTimeoutMs: 200 });
  try {
    return checkReplica(r.db);
  } finally {
    r.close();
  }
}

const key = (f: Finding) => `${f.severity} ${f.table} ${f.row_id} ${f.column} ${f.code}`;

t.test('a clean replica has no findings', async (t) => {
  const report = check(t, CLEAN);
  t.same(report, { ok: true, errors: 0, warnings: 0, findings: [], omitted: 0 });
});

t.test('one row per finding', async (t) => {
  const rows: [string, ReplicaSpec, string][] = [
    ['route to a missing carrier', { ...CLEAN, routes: [{ id: 'r9', prefix: '1', carrierId: 'gone' }] }, 'error outbound_routes r9 carrier_id dangling_reference'],
    ['lead to a missing list', { ...CLEAN, leads: [{ id: 'l9', primaryPhone: '+14155550123', leadListId: 'nope' }] }, 'error leads l9 lead_list_id dangling_reference'],
    ['number to a missing carrier', { ...CLEAN, phoneNumbers: [{ id: 'n9', number: '+12125550100', carrierId: 'gone' }] }, 'error phone_numbers n9 carrier_id dangling_reference'],
    ['forced carrier missing', { ...CLEAN, campaigns: [{ id: 'c9', metadata: { carrier_id: 'gone' } }] }, 'error campaigns c9 metadata.carrier_id dangling_reference'],
    ['metadata not an object', { ...CLEAN, campaigns: [{ id: 'c9', metadata: '[1]' }] }, 'error campaigns c9 metadata metadata_invalid'],
    ['forced carrier of another tenant', { ...CLEAN, carriers: [...CLEAN.carriers!, { id: 'x', name: 'gwx', tenantId: 't2', origin: 'tenant' }], campaigns: [{ id: 'c9', metadata: { carrier_id: 'x' } }] }, 'warning campaigns c9 metadata.carrier_id carrier_other_tenant'],
    ['invalid primary phone', { ...CLEAN, leads: [{ id: 'l9', primaryPhone: '555-CALL' }] }, 'error leads l9 primary_phone invalid_destination'],
    ['lead of another tenant than its list', { ...CLEAN, leads: [{ id: 'l9', primaryPhone: '+14155550123', tenantId: 't2' }] }, 'error leads l9 tenant_id tenant_mismatch'],
    ['invalid caller ID', { ...CLEAN, leadLists: [{ id: 'list1', callerId: '+1000' }] }, 'error lead_lists list1 caller_id invalid_caller_id'],
    ['missing caller ID', { ...CLEAN, leadLists: [{ id: 'list1', callerId: null }] }, 'error lead_lists list1 caller_id invalid_caller_id'],
    ['invalid DID', { ...CLEAN, phoneNumbers: [{ id: 'n9', number: 'abc' }] }, 'warning phone_numbers n9 number invalid_phone_number'],
    ['unknown carrier type', { ...CLEAN, carriers: [...CLEAN.carriers!, { id: 'x', name: 'gwx', type: 'pots' }] }, 'error carriers x type unknown_enum'],
    ['unknown direction', { ...CLEAN, carriers: [...CLEAN.carriers!, { id: 'x', name: 'gwx', direction: 'out' }] }, 'error carriers x direction unknown_enum'],
    ['unknown status', { ...CLEAN, carriers: [...CLEAN.carriers!, { id: 'x', name: 'gwx', status: 'on' }] }, 'error carriers x status unknown_enum'],
    ['unknown caller_id_format', { ...CLEAN, carriers: [...CLEAN.carriers!, { id: 'x', name: 'gwx', callerIdFormat: 'e.164' }] }, 'error carriers x caller_id_format unknown_enum'],
    ['unknown match_type', { ...CLEAN, routes: [{ id: 'r9', matchType: 'exact', prefix: '1', carrierId: 'c1' }] }, 'error outbound_routes r9 match_type unknown_enum'],
    ['unknown attestation', { ...CLEAN, campaigns: [{ id: 'c9', stirShakenAttestation: 'X' }] }, 'error campaigns c9 stir_shaken_attestation unknown_enum'],
    ['gateway name unusable', { ...CLEAN, carriers: [...CLEAN.carriers!, { id: 'x', name: 'my gateway' }] }, 'error carriers x name carrier_invalid_name'],
    ['carrier rule unusable', { ...CLEAN, carriers: [...CLEAN.carriers!, { id: 'x', name: 'gwx', addPrefix: '9,' }] }, 'error carriers x strip_prefix/add_prefix carrier_invalid_config'],
    ['NULL tenant not platform', { ...CLEAN, carriers: [...CLEAN.carriers!, { id: 'x', name: 'gwx', tenantId: null, origin: 'tenant' }] }, 'warning carriers x origin platform_carrier_origin'],
    ['regex does not compile', { ...CLEAN, routes: [{ id: 'r9', regex: '^(1', carrierId: 'c1' }] }, 'error outbound_routes r9 regex regex_invalid'],
    ['regex unsafe', { ...CLEAN, routes: [{ id: 'r9', regex: '^(1+)+$', carrierId: 'c1' }] }, 'error outbound_routes r9 regex regex_unsafe'],
    ['prefix unusable', { ...CLEAN, routes: [{ id: 'r9', prefix: '1x', carrierId: 'c1' }] }, 'error outbound_routes r9 match_type/prefix/priority route_invalid'],
    ['route rule unusable', { ...CLEAN, routes: [{ id: 'r9', prefix: '1', carrierId: 'c1', stripPrefix: '1\n' }] }, 'error outbound_routes r9 strip_prefix/add_prefix route_invalid'],
    ['route to an archived carrier', { ...CLEAN, carriers: [...CLEAN.carriers!, { id: 'x', name: 'gwx', tenantId: 't1', origin: 'tenant', status: 'archived' }], routes: [{ id: 'r9', prefix: '1', carrierId: 'x' }] }, 'warning outbound_routes r9 carrier_id carrier_archived'],
    ['route to another tenant\'s carrier', { ...CLEAN, carriers: [...CLEAN.carriers!, { id: 'x', name: 'gwx', tenantId: 't2', origin: 'tenant' }], routes: [{ id: 'r9', prefix: '1', carrierId: 'x' }] }, 'error outbound_routes r9 carrier_id carrier_other_tenant'],
    ['route to an inbound carrier', { ...CLEAN, carriers: [...CLEAN.carriers!, { id: 'x', name: 'gwx', direction: 'inbound' }], routes: [{ id: 'r9', prefix: '1', carrierId: 'x' }] }, 'error outbound_routes r9 carrier_id carrier_not_outbound'],
    ['control characters in a name', { ...CLEAN, leadLists: [{ id: 'list1', callerId: '+12125550100', name: 'a\r\nb' }] }, 'error lead_lists list1 name unsafe_text'],
    ['invalid UTF-8 (decoded U+FFFD)', { ...CLEAN, campaigns: [{ id: 'c9', name: 'x\ufffd' }] }, 'error campaigns c9 name unsafe_text'],
    ['attestation header unusable', { ...CLEAN, carriers: [...CLEAN.carriers!, { id: 'x', name: 'gwx', attestationHeader: 'X-A,sip_h_Evil=1' }] }, 'error carriers x attestation_header attestation_header_invalid'],
    ['attestation header reserved', { ...CLEAN, carriers: [...CLEAN.carriers!, { id: 'x', name: 'gwx', attestationHeader: 'From' }] }, 'error carriers x attestation_header attestation_header_invalid'],
    ['campaign name unusable as caller-ID name', { ...CLEAN, campaigns: [{ id: 'c9', name: 'Spring|{x}' }] }, 'warning campaigns c9 name caller_id_name_unusable'],
    ['lead list name unusable as caller-ID name', { ...CLEAN, leadLists: [{ id: 'list1', callerId: '+12125550100', name: 'unload mod_event_socket' }] }, 'warning lead_lists list1 name caller_id_name_unusable'],
    ['oversized ID', { ...CLEAN, leads: [{ id: 'l'.repeat(10_000), primaryPhone: '+14155550123' }] }, `error leads ${'l'.repeat(10_000)} id unsafe_text`],
  ];
  for (const [name, spec, want] of rows) {
    const report = check(t, spec);
    t.ok(report.findings.map(key).includes(want), name, { found: report.findings.map(key).map((k) => k.slice(0, 120)) });
    t.equal(report.ok, !report.findings.some((f) => f.severity === 'error'), `${name}: ok iff no errors`);
  }
});

t.test('BLOB in a text column', async (t) => {
  const report = check(t, CLEAN, (db) => db.prepare("UPDATE carriers SET name = x'0a0d' WHERE id = 'c1'").run());
  t.ok(report.findings.map(key).includes('error carriers c1 name unsafe_text'));
});

t.test('findings per code are capped, all are counted', async (t) => {
  const path = join(t.testdir(), 'r.db');
  const w = openReplicaWriter(path);
  fillReplica(w, CLEAN);
  w.insertLeads(Array.from({ length: 30 }, (_, i) => ({ id: `bad${i}`, tenantId: 't1', leadListId: 'list1', primaryPhone: 'x' })));
  w.close();
  const r = openReplica(path, { busyTimeoutMs: 200 });
  const report = checkReplica(r.db, { maxPerCode: 10 });
  r.close();
  t.equal(report.errors, 30);
  t.equal(report.findings.length, 10);
  t.equal(report.omitted, 20);
});

t.test('runReplicaCheck: exit codes, JSON and the human table', async (t) => {
  const capture = () => {
    const out: string[] = [];
    const err: string[] = [];
    return { io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) }, out, err };
  };
  const clean = buildReplica(t.testdir(), CLEAN);
  const c1 = capture();
  t.equal(await runReplicaCheck({ replica: clean, json: true }, c1.io), 0);
  t.same(JSON.parse(c1.out[0]!), { ok: true, errors: 0, warnings: 0, findings: [], omitted: 0 });

  const dirty = buildReplica(t.testdir(), {
    ...CLEAN,
    leads: Array.from({ length: 25 }, (_, i) => ({ id: `l${i}\u001b[31m`, primaryPhone: 'bad' })),
    phoneNumbers: [{ id: 'n9', number: 'abc' }],
  });
  const c2 = capture();
  t.equal(await runReplicaCheck({ replica: dirty, json: true }, c2.io), 1);
  const json = JSON.parse(c2.out[0]!);
  t.equal(json.ok, false);
  t.equal(json.warnings, 1);
  t.ok(json.errors >= 25);
  t.same(Object.keys(json.findings[0]).sort(), ['code', 'column', 'message', 'row_id', 'severity', 'table']);

  const c3 = capture();
  t.equal(await runReplicaCheck({ replica: dirty, json: false }, c3.io), 1);
  t.match(c3.out[0], /^FAILED: \d+ error\(s\), 1 warning\(s\)$/);
  t.match(c3.out.join('\n'), /more finding\(s\) not shown/);
  for (const line of c3.out) t.notMatch(line, /[\x00-\x1f]/, 'no control characters reach the terminal');

  const warnOnly = buildReplica(t.testdir(), { ...CLEAN, phoneNumbers: [{ id: 'n9', number: 'abc' }] });
  t.equal(await runReplicaCheck({ replica: warnOnly, json: true }, capture().io), 0, 'warnings alone exit 0');

  const c4 = capture();
  t.equal(await runReplicaCheck({ replica: join(t.testdir(), 'absent.db'), json: true }, c4.io), 2);
  t.same(c4.out, []);
  t.match(c4.err[0], /replica check: replica_missing/);
});
