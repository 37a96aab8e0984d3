/**
 * Hostile replica data through the RUNNING daemon (built dist/, fake FreeSWITCH over TCP): every hostile value
 * × every column that can matter, one call each, concurrently in batches with a control call in every batch.
 * For each call: a typed outcome/code in its summary line, no forbidden byte in any frame the peer received,
 * and — for the offending rows — a finding in `callrouter replica check --json` on the same file.
 * (test/routing/hostile.test.ts covers the same matrix at the pure level; this proves the shell adds nothing.)
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t, { type Test } from 'tap';
import { CALL_ERROR_CODES } from '../../src/errors.js';
import { compileRouteRegex } from '../../src/routing/regex-safety.js';
import { FakeFreeSwitch, type CallRecord } from '../fake-freeswitch/fake-freeswitch.js';
import { DAEMON_ENTRY, startDaemon, type DaemonProcess, type LogLine } from '../support/daemon-process.js';
import {
  buildHostileReplica, CONTROL_CLI, CONTROL_DEST, CONTROL_GATEWAY, forbiddenInFrames, hostileCases, show, type HostileCase,
} from './fixtures/hostile-world.js';

const run = promisify(execFile);
const BATCH = 32;

/** Codes a call may end with when `column` holds a hostile value (null = answered, value ignored or rejected). */
const EXPECTED: Record<string, readonly (string | null)[]> = {
  'carriers.name': ['no_route'],
  'carriers.strip_prefix': ['no_route'],
  'carriers.add_prefix': ['no_route'],
  'carriers.caller_id_format': ['no_route'],
  'carriers.identity_mode': [null],
  'carriers.attestation_header': [null],
  'outbound_routes.prefix': ['no_route'],
  // A pattern that compiles is a legitimate (if odd) regex: it matches or it does not.
  'outbound_routes.regex': ['no_route', null],
  'outbound_routes.strip_prefix': ['no_route'],
  'outbound_routes.add_prefix': ['no_route'],
  'campaigns.metadata': [null],
  'campaigns.stir_shaken_attestation': [null],
  'campaigns.name': [null],
  'lead_lists.caller_id': ['invalid_caller_id'],
  'lead_lists.name': [null],
  'leads.primary_phone': ['invalid_destination'],
  'carriers.id': [null],
  'outbound_routes.id': [null],
  'lead_lists.id': [null],
  'campaigns.id': ['invalid_channel_variable'],
  'leads.id': ['invalid_channel_variable'],
  'tenant_id (every row)': [null],
};

interface Placed {
  c: HostileCase;
  uuid: string;
  record: CallRecord;
}

async function placeAll(fs: FakeFreeSwitch, cases: readonly HostileCase[], control: HostileCase): Promise<{ placed: Placed[]; controls: Placed[] }> {
  const placed: Placed[] = [];
  const controls: Placed[] = [];
  for (let i = 0; i < cases.length; i += BATCH) {
    const batch = cases.slice(i, i + BATCH);
    const go = (c: HostileCase): Promise<Placed> => {
      const uuid = randomUUID();
      return fs.call({ uuid, variables: c.world.variables }).then((record) => ({ c, uuid, record }));
    };
    const [ctl, ...rest] = await Promise.all([go(control), ...batch.map(go)]);
    controls.push(ctl!);
    placed.push(...rest);
  }
  return { placed, controls };
}

function summaryOf(d: DaemonProcess, uuid: string): Promise<LogLine> {
  return d.waitForLog((l) => l.msg === 'call' && l['call_uuid'] === uuid, 20_000);
}

/** Runs the matrix on one daemon; returns per-case results for the replica-check assertions. */
async function runMatrix(
  t: Test,
  d: DaemonProcess,
  cases: readonly HostileCase[],
  control: HostileCase,
): Promise<Map<HostileCase, { code: string | null; warned: boolean }>> {
  const fs = new FakeFreeSwitch({ daemonPort: d.eslPort, timeScale: 0.01, gateways: { [CONTROL_GATEWAY]: { type: 'answer', afterMs: 50, hangupAfterMs: 50 } } });
  t.teardown(() => fs.close());
  const { placed, controls } = await placeAll(fs, cases, control);

  const out = new Map<HostileCase, { code: string | null; warned: boolean }>();
  const codes = new Map<string, number>();
  let dirty = 0;
  for (const p of [...controls, ...placed]) {
    const s = await summaryOf(d, p.uuid);
    const code = (s['code'] as string | null) ?? null;
    if (code !== null) codes.set(code, (codes.get(code) ?? 0) + 1);
    const warned = d.logs.some((l) => l.level === 'warn' && l['call_uuid'] === p.uuid);
    if (p.c.column !== null) out.set(p.c, { code, warned });
    const label = p.c.column === null ? 'control' : `${p.c.column.column} = ${p.c.value!.label}`;
    const problems = forbiddenInFrames(p.record.frames, p.c.value);
    if (problems.length > 0 || p.record.moduleUnloadAttempt) {
      dirty += 1;
      t.fail(`${label}: forbidden bytes reached the peer`, { problems: problems.slice(0, 5), unload: p.record.moduleUnloadAttempt });
    }
    const allowed = p.c.column === null ? [null] : EXPECTED[p.c.column.column]!;
    if (!allowed.includes(code)) t.fail(`${label}: code ${String(code)}, expected one of ${allowed.map(String).join('/')}`);
    if (code !== null && !(code in CALL_ERROR_CODES)) t.fail(`${label}: untyped code ${code}`);
    if (code === null) {
      // Answered: exactly the control call's endpoint and CLI — the hostile value changed nothing it could reach.
      const leg = p.record.bridges[0]?.legs[0];
      if (s['outcome'] !== 'answered' || leg?.gateway !== CONTROL_GATEWAY || leg.number !== CONTROL_DEST || leg.vars['origination_caller_id_number'] !== CONTROL_CLI) {
        t.fail(`${label}: answered call differs from the control`, { outcome: s['outcome'], leg });
      }
    } else {
      if (p.record.bridges.length !== 0) t.fail(`${label}: ${code} but a bridge was sent`);
      if (typeof s['hangup_cause'] !== 'string' || p.record.hangupCause !== s['hangup_cause']) {
        t.fail(`${label}: hangup cause ${String(s['hangup_cause'])} vs ${String(p.record.hangupCause)}`);
      }
    }
  }
  t.equal(dirty, 0, `no forbidden byte in any of the ${placed.length + controls.length} calls' frames`);
  t.ok(controls.every((c) => c.record.bridges[0]?.outcome === 'answered'), `all ${controls.length} control calls answered`);
  for (const [code, n] of codes) t.equal(await d.metric(`callrouter_call_errors_total{code="${code}"}`), n, `metric for ${code} counts ${n}`);
  const answered = [...controls, ...placed].length - [...codes.values()].reduce((a, b) => a + b, 0);
  t.equal(await d.metric('callrouter_calls_total{outcome="answered"}'), answered, `${answered} answered calls counted`);
  t.equal(await d.metric('callrouter_active_sessions'), 0);
  t.equal((await d.http('/healthz')).status, 200, 'the daemon is alive and healthy');
  return out;
}

/** A stored value `replica check` must flag whatever its column: control characters, invalid UTF-8, oversize. */
function unsafeText(c: HostileCase): boolean {
  const v = c.value!;
  return v.bytesHex !== undefined || /[\u0000-\u001f]/.test(v.text!) || v.text!.length > 1024;
}

t.test('every hostile value × column through the daemon: typed codes, clean frames, reported rows', async (t) => {
  const dir = t.testdir();
  const cases = hostileCases(1);
  const control = cases[0]!;
  const replica = buildHostileReplica(dir, cases);
  const hostile = cases.slice(1);
  t.comment(`${hostile.length} hostile cases`);

  // caller_id_name=campaign makes campaigns.name reach the bridge builder; a second daemon does lead_lists.name.
  const d = await startDaemon({ dir, replica, config: { bridge: { caller_id_name: 'campaign' } } });
  t.teardown(() => d.stop());
  const results = await runMatrix(t, d, hostile.filter((c) => c.column!.column !== 'lead_lists.name'), control);

  const dir2 = join(dir, 'lead-list-names');
  mkdirSync(dir2);
  const d2 = await startDaemon({ dir: dir2, replica, config: { bridge: { caller_id_name: 'lead_list' } } });
  t.teardown(() => d2.stop());
  for (const [k, v] of await runMatrix(t, d2, hostile.filter((c) => c.column!.column === 'lead_lists.name'), control)) results.set(k, v);

  const nameWarnings = [...results].filter(([c, r]) => c.column!.column.endsWith('.name') && r.warned).length;
  t.ok(nameWarnings > 0, `unusable caller-ID names were flagged on the call (${nameWarnings})`);

  const check = await run(process.execPath, [DAEMON_ENTRY, 'replica', 'check', '--replica', replica, '--json'], { maxBuffer: 64 << 20 }).then(
    () => { throw new Error('replica check exited 0 on a hostile replica'); },
    (err: { code: number; stdout: string }) => err,
  );
  t.equal(check.code, 1, 'replica check exits 1 (errors)');
  const report = JSON.parse(check.stdout) as { findings: { table: string; row_id: string; column: string; code: string }[]; omitted: number };
  t.equal(report.omitted, 0, 'every finding listed');
  const reported = new Set(report.findings.map((f) => `${f.table}\u0000${f.row_id}`));
  let missing = 0;
  for (const [c, r] of results) {
    const col = c.column!;
    const compiles = col.column === 'outbound_routes.regex' && c.value!.text !== undefined && compileRouteRegex(c.value!.text).ok;
    // Offending: the row made the call fail or warn (a campaign/lead ID refused on the channel is the
    // channel's fault, not the row's), or it holds unsafe text whatever the column.
    const offending = ((r.code !== null && r.code !== 'invalid_channel_variable') || r.warned) && !compiles;
    if (!offending && !unsafeText(c)) continue;
    const rowId = col.rowId(c.world);
    // Byte values decode to U+FFFD in IDs; no ID column gets bytes (see the fixture).
    if (!reported.has(`${col.table}\u0000${rowId}`)) {
      missing += 1;
      t.fail(`replica check does not report ${col.table} ${show(rowId)} (${c.label}, call code ${String(r.code)}, warned ${r.warned})`);
    }
  }
  t.equal(missing, 0, 'replica check reports every offending row');
});
