/**
 * `npm start` on a clean checkout, as package.json spells it: `replica demo --replica data/demo.db --if-absent`
 * in a directory without `data/`, then `serve --replica data/demo.db` on the result (ports 0 instead of the
 * defaults), a call for the demo IDs the README and the demo's hint use, and `explain --json` on them.
 */
import t from 'tap';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { FakeFreeSwitch } from '../fake-freeswitch/fake-freeswitch.js';
import { NODE_FLAGS } from '../../src/node-flags.js';
import { REPO_ROOT, runCli, startDaemon } from '../support/daemon-process.js';
import { summaryOf } from './peer.js';

const EXPLAIN_KEYS = ['ok', 'error', 'tenant_id', 'campaign_id', 'lead_id', 'destination', 'caller_id', 'attestation', 'forced_carrier', 'candidates', 'skipped'];
const CANDIDATE_KEYS = ['carrier_id', 'carrier_name', 'route_id', 'number', 'caller_id', 'dial_string'];

t.test('npm start: demo replica if absent, serve on it, explain the README IDs', async (t) => {
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  const [demoHalf, serveHalf] = pkg.scripts['start']!.split('&&').map((s) => s.trim().split(/\s+/));
  t.same(demoHalf, ['node', 'dist/main.js', 'replica', 'demo', '--replica', 'data/demo.db', '--if-absent'], 'the start script this test mirrors');
  t.same(serveHalf, ['node', ...NODE_FLAGS, 'dist/main.js', 'serve', '--replica', 'data/demo.db'], 'serve runs with the node flags of src/node-flags.ts');

  const dir = t.testdir();
  t.notOk(existsSync(join(dir, 'data')), 'clean checkout: no data/');
  const first = await runCli(demoHalf!.slice(2), { cwd: dir });
  t.equal(first.code, 0, first.stderr);
  t.match(first.stdout, /callrouter explain --replica data\/demo\.db --campaign camp-acme-forced --lead lead-acme-0001/);
  const db = join(dir, 'data', 'demo.db');
  const mtime = statSync(db).mtimeMs;
  const again = await runCli(demoHalf!.slice(2), { cwd: dir });
  t.equal(again.code, 0);
  t.match(again.stdout, /kept it/);
  t.equal(statSync(db).mtimeMs, mtime, '--if-absent leaves an existing replica alone');

  const explain = await runCli(['explain', '--replica', 'data/demo.db', '--campaign', 'camp-acme-forced', '--lead', 'lead-acme-0001', '--json'], { cwd: dir });
  t.equal(explain.code, 0, explain.stderr);
  const lines = explain.stdout.split('\n').filter((l) => l !== '');
  t.equal(lines.length, 1, 'one JSON document');
  const decision = JSON.parse(lines[0]!) as Record<string, unknown> & { candidates: Array<Record<string, unknown>> };
  t.same(Object.keys(decision), EXPLAIN_KEYS, 'top-level keys, in order');
  t.ok(decision.candidates.length > 0);
  for (const c of decision.candidates) {
    t.same(Object.keys(c).slice(0, CANDIDATE_KEYS.length), CANDIDATE_KEYS, 'candidate keys, in order');
    // The identity fragment (STIR/SHAKEN) is the one documented extension of a candidate.
    t.same(Object.keys(c).slice(CANDIDATE_KEYS.length).filter((k) => k !== 'identity'), []);
  }
  t.match(decision, {
    ok: true, error: null, tenant_id: 'tenant-acme', campaign_id: 'camp-acme-forced', lead_id: 'lead-acme-0001',
    forced_carrier: { carrier_id: 'carrier-acme-backup', outcome: 'used' },
  });
  const top = decision.candidates[0]!;

  // The serve half, with the same --replica flag (ports 0 via the per-run config).
  const d = await startDaemon({ dir, replica: db, args: serveHalf!.slice(3 + NODE_FLAGS.length) });
  t.teardown(() => d.stop());
  t.match(d.logs.find((l) => l.msg === 'callrouter ready'), { ready: true, replica: 'data/demo.db' });
  const fs = new FakeFreeSwitch({ daemonPort: d.eslPort, timeScale: 0.01, gateways: { [String(top['carrier_name'])]: { type: 'answer', afterMs: 10, hangupAfterMs: 10 } } });
  t.teardown(() => fs.close());
  const rec = await fs.call({ variables: { g2d_campaign_id: 'camp-acme-forced', g2d_lead_id: 'lead-acme-0001' } });
  t.same(rec.bridges.map((b) => b.legs.map((l) => l.endpoint)), [[top['dial_string']]], 'the daemon dials what explain showed');
  t.equal(rec.bridges[0]!.legs[0]!.vars['origination_caller_id_number'], top['caller_id']);
  t.match(await summaryOf(d, rec.uuid), { outcome: 'answered', decision_source: 'forced', tenant_id: 'tenant-acme' });
  d.kill('SIGTERM');
  t.same(await d.exited, { code: 0, signal: null });
});
