/**
 * Catastrophic route regexes with a crafted destination must not stall the event loop: every such pattern is
 * refused at index build (`regex_unsafe`, shown by `explain --json`) and so never evaluated, and the worst
 * pattern still accepted (at the variable-quantifier limit, evaluated on every call of the tenant) is bounded
 * by the 15-digit subject. This is the one wall-clock bound the issue asks for (10 ms); measurements are
 * printed. Patterns are written for DIGITS: the subject is the destination's E.164 digits.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import t from 'tap';
import { decide } from '../../src/routing/decide.js';
import { compileRouteRegex } from '../../src/routing/regex-safety.js';
import { buildRouteIndex } from '../../src/routing/route-index.js';
import type { CarrierRow, RouteRow } from '../../src/routing/types.js';
import { FakeFreeSwitch } from '../fake-freeswitch/fake-freeswitch.js';
import { buildReplica } from '../fixtures/replica.js';
import { DAEMON_ENTRY, startDaemon } from '../support/daemon-process.js';

const run = promisify(execFile);
const STALL_BOUND_MS = 10;
/** A valid 15-digit E.164 number (+91) that is a long run of one digit and ends in a non-matching one. */
const DEST = '911111111111113';

/** Each backtracks exponentially or with a high polynomial degree on DEST-like subjects. */
const CATASTROPHIC: readonly [string, string][] = [
  ['nested plus over \\d', '^(\\d+)+$'],
  ['nested plus, failing suffix', '^9(1+)+2$'],
  ['nested star, unanchored', '(\\d*)*x'],
  ['overlapping alternation repeated', '^9(1|11)+$'],
  ['adjacent plus inside plus', '(1+1+)+2'],
  ['issue example (letters)', '^(a+)+$'],
  ['issue example (x+x+)+y', '(x+x+)+y'],
  ['digit or two digits, repeated', '^(\\d|\\d\\d)+$'],
  // Missed by safe-regex2 (star height 1): 4^15 paths — 11 s on DEST before the own check existed.
  ['four identical alternatives (safe-regex2 misses)', '(1|1|1|1)+2'],
  // Missed by safe-regex2: polynomial of degree 12 — 2.9 s on 15 digits before the quantifier limit.
  ['twelve adjacent \\d* (safe-regex2 misses)', `${'\\d*'.repeat(12)}2`],
];
/** At the limit of four variable quantifiers and unanchored: the slowest pattern the router still evaluates. */
const WORST_ACCEPTED = '\\d*\\d*\\d*\\d*2';

function world(): { carriers: CarrierRow[]; routes: RouteRow[] } {
  const carrier = (id: string, name: string): CarrierRow => ({
    id, tenantId: null, name, type: 'sip_trunk', direction: 'outbound', status: 'active', origin: 'platform', remoteHost: null,
    remotePort: null, transport: null, stripPrefix: null, addPrefix: null, callerIdFormat: null, identityMode: null,
    attestationHeader: null, updatedAt: null,
  });
  const route = (id: string, priority: number, p: Partial<RouteRow>): RouteRow => ({
    id, tenantId: 't1', matchType: 'regex', prefix: null, regex: null, carrierId: 'c_bad', priority, stripPrefix: null,
    addPrefix: null, updatedAt: null, ...p,
  });
  return {
    carriers: [carrier('c_bad', 'carrier_bad'), carrier('c_ok', 'carrier_ok')],
    routes: [
      ...CATASTROPHIC.map(([, regex], i) => route(`evil${i}`, i + 1, { regex })),
      route('worst_accepted', 50, { regex: WORST_ACCEPTED }),
      route('fallback', 100, { matchType: 'prefix', prefix: '9', carrierId: 'c_ok' }),
    ],
  };
}

t.test('every catastrophic pattern is refused as regex_unsafe before it can run', async (t) => {
  for (const [name, pattern] of CATASTROPHIC) {
    const c = compileRouteRegex(pattern);
    t.equal(c.ok ? 'accepted' : c.reason, 'regex_unsafe', `${name}: ${pattern}`);
  }
  t.ok(compileRouteRegex(WORST_ACCEPTED).ok, 'the worst accepted pattern is accepted (it is the bound under test)');
});

t.test(`route index + decide with the worst destination: no decision stalls more than ${STALL_BOUND_MS} ms`, async (t) => {
  const { carriers, routes } = world();
  const index = buildRouteIndex({ carriers, routes, phoneNumbers: [] });
  const records = {
    campaign: { id: 'camp1', tenantId: 't1', name: 'c', status: 'active', stirShakenAttestation: null, metadata: null },
    lead: { id: 'lead1', tenantId: 't1', leadListId: 'list1', primaryPhone: `+${DEST}` },
    leadList: { id: 'list1', tenantId: 't1', name: 'l', callerId: '+12125550100' },
  };
  const input = { campaignId: 'camp1', leadId: 'lead1' };
  const once = () => decide(input, records, index, { maxAttempts: 3, forcedFailoverToRoutes: false, reportUnmatchable: true });

  const d = once();
  t.equal(d.ok, true);
  t.same(d.candidates.map((c) => c.routeId), ['fallback'], 'the call routes past every refused pattern');
  const skipped = new Map(d.skipped.map((s) => [s.routeId, s.reason]));
  for (const i of CATASTROPHIC.keys()) t.equal(skipped.get(`evil${i}`), 'regex_unsafe', `evil${i} skipped as regex_unsafe`);

  // A catastrophic pattern slows EVERY decision on this destination (it is a property of the input), so a
  // percentile detects it while ignoring what shared CI machines add (preemption, GC — a 2-core box running
  // other suites showed p99 8 ms and max 23 ms around a 0.07 ms median): the bound is on the 90th percentile,
  // best of three rounds; p99 and max are printed.
  const pct = (sorted: number[], q: number): number => sorted[Math.floor(sorted.length * q)]!;
  const measure = (fn: () => void, n: number): { p90: number; p99: number; max: number; median: number } => {
    let best = { p90: Infinity, p99: Infinity, max: Infinity, median: Infinity };
    for (let round = 0; round < 3 && best.p90 > STALL_BOUND_MS; round += 1) {
      const times: number[] = [];
      for (let i = 0; i < n; i += 1) {
        const t0 = performance.now();
        fn();
        times.push(performance.now() - t0);
      }
      const sorted = [...times].sort((a, b) => a - b);
      const r = { p90: pct(sorted, 0.9), p99: pct(sorted, 0.99), max: sorted.at(-1)!, median: pct(sorted, 0.5) };
      if (r.p90 < best.p90) best = r;
    }
    return best;
  };
  const fmt = (r: { p90: number; p99: number; max: number; median: number }): string =>
    `median ${r.median.toFixed(3)} ms, p90 ${r.p90.toFixed(3)} ms, p99 ${r.p99.toFixed(3)} ms, max ${r.max.toFixed(3)} ms`;

  const decisions = measure(once, 2000);
  t.comment(`decide with ${routes.length} routes on ${DEST}: ${fmt(decisions)}`);
  t.ok(decisions.p90 <= STALL_BOUND_MS, `decision p90 ${decisions.p90.toFixed(3)} ms ≤ ${STALL_BOUND_MS} ms`);

  const worst = compileRouteRegex(WORST_ACCEPTED);
  if (!worst.ok) throw new Error('unreachable');
  const raw = measure(() => worst.regex.test(DEST), 500);
  t.comment(`worst accepted pattern ${WORST_ACCEPTED} on ${DEST} (no match, full backtracking): ${fmt(raw)}`);
  t.ok(raw.p90 <= STALL_BOUND_MS, 'the 15-digit subject bounds the worst accepted pattern');
});

t.test('in the running daemon: calls route past the patterns, decisions stay bounded, explain shows regex_unsafe', async (t) => {
  const dir = t.testdir();
  const { routes } = world();
  const replica = buildReplica(dir, {
    carriers: [{ id: 'c_bad', name: 'carrier_bad' }, { id: 'c_ok', name: 'carrier_ok' }],
    routes: routes.map((r) => ({ id: r.id, matchType: r.matchType, prefix: r.prefix, regex: r.regex, carrierId: r.carrierId, priority: r.priority })),
    campaigns: [{ id: 'camp1' }],
    leadLists: [{ id: 'list1', callerId: '+12125550100' }],
    leads: [{ id: 'lead1', primaryPhone: `+${DEST}` }],
  });
  const d = await startDaemon({ dir, replica });
  t.teardown(() => d.stop());
  t.ok(d.logs.some((l) => l.msg === 'replica open' && l['routes'] === routes.length), 'every route row loaded (refused ones included)');
  const fs = new FakeFreeSwitch({ daemonPort: d.eslPort, timeScale: 0.01, gateways: { carrier_ok: { type: 'answer', hangupAfterMs: 10 } } });
  t.teardown(() => fs.close());

  const uuids = Array.from({ length: 20 }, () => randomUUID());
  const records = await Promise.all(uuids.map((uuid) => fs.call({ uuid, variables: { g2d_campaign_id: 'camp1', g2d_lead_id: 'lead1' } })));
  t.ok(records.every((r) => r.attemptedGateways.join() === 'carrier_ok'), 'all 20 calls bridged to the fallback carrier only');
  const micros: number[] = [];
  for (const uuid of uuids) {
    const s = await d.waitForLog((l) => l.msg === 'call' && l['call_uuid'] === uuid);
    t.equal(s['outcome'], 'answered');
    micros.push(Number(s['decision_us']));
  }
  micros.sort((a, b) => a - b);
  const medianUs = micros[micros.length >> 1]!;
  // As above: a stall from a pattern would hit every call; the median ignores a noisy neighbour's spike.
  t.comment(`daemon decision time (summary decision_us: lookup + decide) over 20 calls: median ${medianUs} µs, max ${micros.at(-1)} µs`);
  t.ok(medianUs <= STALL_BOUND_MS * 1000, `median decision ${medianUs} µs ≤ ${STALL_BOUND_MS} ms`);
  t.equal((await d.http('/healthz')).status, 200, 'no event-loop stall reported by /healthz');

  const { stdout } = await run(process.execPath, [DAEMON_ENTRY, 'explain', '--replica', replica, '--campaign', 'camp1', '--lead', 'lead1', '--json']);
  const explained = JSON.parse(stdout) as { ok: boolean; skipped: { route_id: string; reason: string }[]; candidates: { route_id: string | null }[] };
  t.equal(explained.ok, true);
  t.same(explained.candidates.map((c) => c.route_id), ['fallback']);
  for (const [i, [name]] of CATASTROPHIC.entries()) {
    t.ok(explained.skipped.some((s) => s.route_id === `evil${i}` && s.reason === 'regex_unsafe'), `explain: evil${i} (${name}) regex_unsafe`);
  }
});
