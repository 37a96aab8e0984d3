/**
 * `npm run bench:routing [-- --leads N] [--replica FILE] [--mmap-mb N]` — not a test. `--replica FILE` keeps
 * the replica (built there when absent, reused when present); `--mmap-mb N` sets `PRAGMA mmap_size` on the
 * bench's second, raw handle (the "records statement only" row) to show what memory-mapped reads would do.
 * Builds a large replica in a temp directory (default 1,000,000 leads; tenant t1 with 10,000 prefix routes and
 * 200 regex routes; 500 carriers) with the replica writer, then — in a fresh child process, so the writer's
 * memory does not count — measures on ONE thread (the bench is single-threaded: one core at most):
 *   - the DAEMON PATH first, alone in the process: `createCallPlanner(createReplicaStore(...), options)` per
 *     call, i.e. `store.lookup` (the lead + `data_version` in one statement, campaign and lead list from the
 *     queries' maps, a stat of the path at most once per clock ms) + `planCall` (decide + identity plan per
 *     candidate), with the default config — exactly src/app.ts's `plan`; then RSS (after a full GC: what stays
 *     live, the store's page cache included);
 *   - the stages: decide (number cache / none), planCall, the three-table records statement alone (explain's
 *     read), the hot-path statement with cached campaign/list, a stat of the path alone, store.lookup, and the
 *     daemon path again after all of them, and then 200 daemon-path calls each right after a 10 ms sleep (what a
 *     call costs when the process wakes up for it, as at light load); reading carriers/routes/numbers and
 *     building the route index (max of 5). The second handle gets the store's page cache size, so its rows compare with store.lookup.
 * Each row prints decisions per wall-clock second, decisions per CPU-second of the bench thread (from
 * /proc/thread-self/stat — what one core of its own would do; the wall rate also counts time spent waiting for
 * a CPU on a loaded machine), p50/p99/max latency. Targets (issue 2, for the routing decision — the pure function
 * of call and replica rows): >= 50,000 decisions/s and p99 <= 100 µs, index build <= 500 ms, RSS <= 300 MB;
 * PASS/FAIL per target, exit code 1 on any FAIL. The daemon path is also printed against the rate and p99 bounds
 * ("beyond the issue", pass/miss, not in the exit code): it adds the SQLite read, which is I/O.
 *
 * Today, six runs (load average 1.2–2.0, the VM shared with the event-socket benchmark at times):
 *   decide (number cache)    227k–426k/s wall, p50 2.7–3.4 µs, p99 5.8–11.3 µs                            PASS
 *   daemon path (first row)  43.1k–69.6k/s wall, 46.7k–69.9k per CPU-s, p50 13.1–19.6 µs, p99 31–67 µs
 *   daemon path again        41.6k–77.5k/s wall, p50 12.2–20.7 µs, p99 23–81 µs
 *   index build max 71–110 ms, RSS after the daemon path 198–202 MB                                          PASS
 *   (session 3, one run) daemon path with each call right after a 10 ms sleep: p50 267 µs, p99 442 µs — the
 *   host's wake-up cost (a Firecracker guest under nested virtualization), against 16.7–18.8 µs back to back
 *
 * Results, `npm run bench:routing -- --replica FILE` (1,000,000 leads), twice back to back, 2-vCPU AMD EPYC VM
 * shared with the lead's event-socket benchmark, load average 3.1 → 2.8, Node 20.20.2, better-sqlite3 12:
 *   daemon path              44.5k–46.5k/s wall, 47.6k–48.5k per CPU-s, p50 18.8–19.4 µs, p99 55–83 µs  FAIL (rate)
 *   daemon path, again       45.1k–50.2k/s wall, 46.5k–51.3k per CPU-s, p50 18.1–19.9 µs, p99 41–52 µs
 *   store.lookup             52.7k–76.3k/s wall, 73.5k–78.7k per CPU-s, p50 11.8–12.1 µs
 *   lead + data_version      48.3k–81.1k/s wall, 75.8k–82.6k per CPU-s, p50 11.5–12.0 µs (cached campaign/list)
 *   records statement only   39.6k–61.8k/s wall, 65.4k–70.4k per CPU-s, p50 13.2–13.5 µs (three-table join)
 *   stat of the path         p50 2.4 µs (the store now pays it once per ms, not per call)
 *   planCall                 137k–188k/s wall, 208k–213k per CPU-s, p50 3.9–4.1 µs
 *   decide (number cache)    257k–265k/s wall, 263k–270k per CPU-s, p50 3.1–3.3 µs, p99 10–11 µs        PASS
 *   index build max 114–165 ms (PASS); RSS after the daemon path 199–201 MB (PASS), 260–264 MB at the end.
 * Two more runs at load 1.9 → 2.7: daemon path 47.4k–48.1k/s wall, 48.5k per CPU-s, p50 19.1–19.6 µs, p99 51–52 µs
 * (FAIL, rate); daemon path again (SQLite page cache warm) 50.5k–52.8k/s wall, 50.8k–54.6k per CPU-s, p50
 * 17.2–18.5 µs, p99 35–38 µs. An earlier run at load 7.7 (96 MiB page cache): 47.9k/s wall, 51.8k per CPU-s.
 * The first daemon row starts with SQLite's page cache empty — as after every commit by another connection,
 * which in WAL mode empties it — so it is the conservative figure.
 * Before this change, same machine at load 0.5: daemon path 37.7k/s wall, 37.9k per CPU-s, p50 24.8 µs, p99
 * 67 µs; store.lookup 47.5k/s (stat per call + the three-table join with data_version).
 * Where the daemon path's ~19 µs goes: the lead read ~11.5 µs (the WAL read-mark lock/unlock on the -shm and a
 * file-size fstat per read transaction, then the TEXT primary-key index and rowid-table descents; the
 * `data_version` table function ~1 µs), planCall ~3–4 µs, and ~3 µs of cache interference between SQLite and
 * the decision when they alternate. Measured alternatives: SQLite's default 2 MiB page cache costs ~4–5 µs a
 * call more (pread(2) + copy per missed page), 24 MiB ~4 µs more, 48 and 96 MiB alike; a stat per call ~2.4 µs
 * (5 µs median in interleaved runs on the loaded machine); mmap_size saved ~2 µs on the statement alone but is
 * not used: a replica truncated under the map faults with SIGBUS (killing the daemon) where a read fails with
 * SQLITE_CORRUPT today (SQLite's documented mmap caveat; not tried here).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createCallPlanner } from '../src/call/planner.js';
import { ConfigSchema } from '../src/config/schema.js';
import { openReplica } from '../src/replica/database.js';
import { createQueries } from '../src/replica/queries.js';
import { createReplicaStore, DEFAULT_PAGE_CACHE_MB } from '../src/replica/store.js';
import { openReplicaWriter, type LeadInput } from '../src/replica/writer.js';
import { callPlanOptionsFromConfig, planCall, type CallPlanOptions } from '../src/routing/call-plan.js';
import { decide } from '../src/routing/decide.js';
import { createNumberCache, toE164Digits } from '../src/routing/numbers.js';
import { buildRouteIndex, type RouteIndex } from '../src/routing/route-index.js';
import type { CallInput, CallRecords } from '../src/routing/types.js';

const TARGET_RATE = 50_000;
const TARGET_P99_US = 100;
const TARGET_BUILD_MS = 500;
const TARGET_RSS_MB = 300;
const CALLS = 100_000;
/** Records preloaded for the decide-only runs (cycled), kept small so the sample does not dominate RSS. */
const PRELOADED = 10_000;
const WARMUP = 20_000;
/** Calls of the after-idle row (each after a 10 ms sleep: ~2 s). */
const IDLE_CALLS = 200;

const AREA_CODES = (
  '201 202 203 205 206 207 208 209 210 212 213 214 215 216 217 218 219 224 225 228 229 231 234 239 240 248 251 252 ' +
  '253 254 256 260 262 267 269 270 276 281 301 302 303 304 305 307 308 309 310 312 313 314 315 316 317 318 319 320 ' +
  '321 323 330 334 336 337 339 347 351 352 360 361 386 401 402 404 405 406 407 408 409 410 412 413 414 415 417 419 ' +
  '423 424 425 434 435 440 443 469 478 479 480 484 501 502 503 504 505 507 508 509 510 512 513 515 516 517 518 520 ' +
  '530 540 541 559 561 562 563 567 570 571 573 574 575 580 585 586 601 602 603 605 606 607 608 609 610 612 614 615 ' +
  '616 617 618 619 620 623 626 630 631 636 641 646 650 651 660 661 662 678 682 701 702 703 704 706 707 708 712 713 ' +
  '714 715 716 717 718 719 720 724 727 731 732 734 740 754 757 760 763 765 770 772 773 774 775 781 785 786 801 802 ' +
  '803 804 805 806 808 810 812 813 814 815 816 817 818 828 830 831 832 843 845 847 848 850 856 857 858 859 860 862 ' +
  '863 864 865 870 901 903 904 906 907 908 909 910 912 913 914 915 916 917 918 919 920 925 928 931 936 937 940 941 ' +
  '949 951 952 954 956 970 971 972 973 978 979 980 985 989'
).split(' ');

/** Deterministic PRNG (mulberry32) so runs are comparable. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function randomUsNumber(r: () => number): string {
  for (;;) {
    const npa = AREA_CODES[Math.floor(r() * AREA_CODES.length)]!;
    const nxx = 200 + Math.floor(r() * 800);
    const line = String(Math.floor(r() * 10_000)).padStart(4, '0');
    const digits = `1${npa}${nxx}${line}`;
    if (toE164Digits(digits) !== null) return digits;
  }
}

function buildBenchReplica(path: string, leads: number): void {
  const r = rng(42);
  const w = openReplicaWriter(path);
  const carriers: string[] = [];
  w.transaction(() => {
    for (let i = 0; i < 500; i++) {
      const id = `car-${i}`;
      if (i < 400) {
        w.insertCarrier({ id, name: `gw_${i}`, tenantId: 't1', origin: 'tenant', status: i % 40 === 0 ? 'disabled' : 'active', callerIdFormat: i % 3 === 0 ? '+E164' : null });
        carriers.push(id);
      } else if (i < 450) {
        w.insertCarrier({ id, name: `platform_${i}`, tenantId: null, origin: 'platform' });
        carriers.push(id);
      } else {
        w.insertCarrier({ id, name: `other_${i}`, tenantId: 't2', origin: 'tenant' });
      }
    }
    const pick = () => carriers[Math.floor(r() * carriers.length)]!;
    const prefixes = new Set<string>(AREA_CODES.map((npa) => `1${npa}`));
    while (prefixes.size < 10_000) prefixes.add(`1${AREA_CODES[Math.floor(r() * AREA_CODES.length)]!}${200 + Math.floor(r() * 800)}`);
    let n = 0;
    for (const prefix of prefixes) {
      w.insertRoute({ id: `pr-${n++}`, tenantId: 't1', matchType: 'prefix', prefix, carrierId: pick(), priority: 1 + Math.floor(r() * 100), stripPrefix: n % 7 === 0 ? '1' : null });
    }
    for (let i = 0; i < 200; i++) {
      // 100 anchored on an area code, 50 on a country code, 50 with no literal prefix (tested on every call).
      const regex = i < 100 ? `^1${AREA_CODES[i % AREA_CODES.length]!}[2-9][0-9]{6}$`
        : i < 150 ? `^4[0-9]{${9 + (i % 3)}}$`
          : `^(?:33|49|${i})[0-9]{${8 + (i % 4)}}$`;
      w.insertRoute({ id: `rx-${i}`, tenantId: 't1', matchType: 'regex', regex, carrierId: pick(), priority: 1 + Math.floor(r() * 100) });
    }
    for (let i = 0; i < 300; i++) w.insertRoute({ id: `t2-${i}`, tenantId: 't2', prefix: `1${AREA_CODES[i % AREA_CODES.length]!}`, carrierId: `car-${450 + (i % 50)}` });
    for (let i = 0; i < 2_000; i++) w.insertPhoneNumber({ id: `did-${i}`, tenantId: 't1', number: `+${randomUsNumber(r)}` });
    for (let i = 0; i < 100; i++) {
      w.insertCampaign({ id: `camp-${i}`, tenantId: 't1', stirShakenAttestation: 'A', metadata: i % 10 === 0 ? { carrier_id: pick() } : null });
      w.insertLeadList({ id: `list-${i}`, tenantId: 't1', callerId: `+${randomUsNumber(r)}` });
    }
  });
  function* leadRows(): Generator<LeadInput> {
    for (let i = 0; i < leads; i++) {
      // 5% UK numbers: no prefix route matches them, so only regexes decide (the slow path).
      const phone = i % 20 === 0 ? `+44 20 7${String(100 + (i % 900))} ${String(i % 10_000).padStart(4, '0')}` : `+${randomUsNumber(r)}`;
      yield { id: `lead-${i}`, tenantId: 't1', leadListId: `list-${i % 100}`, primaryPhone: phone };
    }
  }
  w.insertLeads(leadRows());
  w.close();
}

interface Latency {
  /** Calls per wall-clock second (includes time the thread waited for a CPU). */
  rate: number;
  /** Calls per second of CPU time of this thread (Linux; NaN elsewhere): the rate on one core of its own. */
  cpuRate: number;
  p50: number;
  p99: number;
  max: number;
}

/** CPU seconds (user + system) this thread has used, from /proc (clock ticks, 100 Hz); NaN when unavailable. */
function threadCpuSeconds(): number {
  try {
    const stat = readFileSync('/proc/thread-self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

/** RSS after a full GC when the child runs with --expose-gc (it does): what stays live, not garbage not yet collected. */
function liveRssMb(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().rss / 2 ** 20;
}

/**
 * Runs `fn(calls … calls + WARMUP - 1)` untimed, then `fn(0 … calls - 1)` timing each call (so a warm-up never
 * repeats a measured call); the rate includes the timer overhead.
 */
function measure(calls: number, fn: (i: number) => void): Latency {
  for (let i = 0; i < WARMUP; i++) fn(calls + i);
  const samples = new Float64Array(calls);
  const cpuStart = threadCpuSeconds();
  const start = process.hrtime.bigint();
  let prev = start;
  for (let i = 0; i < calls; i++) {
    fn(i);
    const now = process.hrtime.bigint();
    samples[i] = Number(now - prev) / 1000;
    prev = now;
  }
  const rate = calls / (Number(prev - start) / 1e9);
  const cpuRate = calls / (threadCpuSeconds() - cpuStart);
  samples.sort();
  return { rate, cpuRate, p50: samples[Math.floor(calls * 0.5)]!, p99: samples[Math.floor(calls * 0.99)]!, max: samples[calls - 1]! };
}

/**
 * `fn` once after each of `calls` 10 ms sleeps (the thread blocks, as the daemon's does between calls at light
 * load): what a call costs when the process wakes up to it. On this CI host (a Firecracker guest under nested
 * virtualization) a process that slept pays for its page-table and cache refill on what it touches first.
 */
function measureAfterIdle(calls: number, fn: (i: number) => void): { p50: number; p99: number } {
  const cell = new Int32Array(new SharedArrayBuffer(4));
  const samples = new Float64Array(calls);
  for (let i = 0; i < calls; i++) {
    Atomics.wait(cell, 0, 0, 10);
    const t = process.hrtime.bigint();
    fn(i);
    samples[i] = Number(process.hrtime.bigint() - t) / 1000;
  }
  samples.sort();
  return { p50: samples[Math.floor(calls * 0.5)]!, p99: samples[Math.floor(calls * 0.99)]! };
}

function runMeasurements(path: string, leads: number, mmapMb: number): boolean {
  const r = rng(7);
  const ids: CallInput[] = Array.from({ length: CALLS + WARMUP }, () => ({ campaignId: `camp-${Math.floor(r() * 100)}`, leadId: `lead-${Math.floor(r() * leads)}` }));

  // First, and alone in the process: what the daemon runs per call (src/app.ts) — createCallPlanner(store,
  // options) → store.lookup → planCall — and the RSS of that state (store, index, planner, the call IDs).
  const store = createReplicaStore<RouteIndex>({
    path, busyTimeoutMs: 200, buildIndex: buildRouteIndex, countRoutes: (ix) => ix.routeCount, now: Date.now,
  });
  store.open();
  const planOptions = callPlanOptionsFromConfig(ConfigSchema.parse({}));
  const planner = createCallPlanner(store, planOptions);
  let planned = 0;
  const daemon = measure(CALLS, (i) => { if (planner(ids[i]!).ok) planned++; });
  const rssMb = liveRssMb();

  // Then the stages, and the index build, through a second (raw) handle; --mmap-mb applies to it only.
  const replica = openReplica(path, { busyTimeoutMs: 200, pageCacheMb: DEFAULT_PAGE_CACHE_MB });
  if (mmapMb > 0) replica.db.pragma(`mmap_size = ${mmapMb * 2 ** 20}`);
  const queries = createQueries(replica.db);
  let t0 = process.hrtime.bigint();
  const rows = { carriers: queries.carriers(), routes: queries.routes(), phoneNumbers: queries.phoneNumbers() };
  const readMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const builds: number[] = [];
  for (let i = 0; i < 5; i++) {
    t0 = process.hrtime.bigint();
    buildRouteIndex(rows);
    builds.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  builds.sort((a, b) => a - b);
  const buildMs = builds[builds.length - 1]!;

  // The pure stages get a number cache of their own, as the planner has.
  const cached: CallPlanOptions = { ...planOptions, decide: { ...planOptions.decide, numbers: createNumberCache() } };
  const served = store.current()!.index;
  const preloaded: CallRecords[] = ids.slice(0, PRELOADED).map((id) => queries.callRecords(id.campaignId, id.leadId));
  // The campaign row says tenant t1, as do leads/lists, so every call reaches the routing stage.
  const decideOnly = measure(CALLS, (i) => { decide(ids[i % PRELOADED]!, preloaded[i % PRELOADED]!, served, cached.decide); });
  const decideUncached = measure(CALLS, (i) => { decide(ids[i % PRELOADED]!, preloaded[i % PRELOADED]!, served, planOptions.decide); });
  const planOnly = measure(CALLS, (i) => { planCall(ids[i % PRELOADED]!, preloaded[i % PRELOADED]!, served, cached); });
  // Lookups start at a different offset each (the IDs cycle), so a row does not only re-read what the last read.
  const statement = measure(CALLS, (i) => { const id = ids[(i + WARMUP) % ids.length]!; queries.callRecords(id.campaignId, id.leadId); });
  const versioned = measure(CALLS, (i) => { const id = ids[(i + 2 * WARMUP) % ids.length]!; queries.versionedCallRecords(id.campaignId, id.leadId); });
  const stat = measure(CALLS, () => { statSync(path, { throwIfNoEntry: false }); });
  const lookup = measure(CALLS, (i) => { const id = ids[(i + 3 * WARMUP) % ids.length]!; store.lookup(id.campaignId, id.leadId); });
  const daemonAgain = measure(CALLS, (i) => { planner(ids[(i + 4 * WARMUP) % ids.length]!); });
  const afterIdle = measureAfterIdle(IDLE_CALLS, (i) => { planner(ids[(i + 5 * WARMUP) % ids.length]!); });
  const sample = preloaded.map((rec, i) => decide(ids[i]!, rec, served, cached.decide));
  const endRssMb = liveRssMb();
  store.close();
  replica.close();

  const fmt = (n: number, d = 1) => n.toFixed(d);
  const row = (name: string, l: Latency) => `${name.padEnd(46)} ${fmt(l.rate, 0).padStart(7)}/s  ${fmt(l.cpuRate, 0).padStart(7)}/cpu-s  p50 ${fmt(l.p50).padStart(6)} µs  p99 ${fmt(l.p99).padStart(6)} µs  max ${fmt(l.max, 0).padStart(6)} µs`;
  console.log(`replica: ${leads} leads; index: ${served.routeCount} routes, ${served.carrierCount} carriers; one thread (one core)`);
  console.log(`ok decisions in sample: ${fmt((100 * sample.filter((d) => d.ok).length) / sample.length)}%, ` +
    `mean candidates ${fmt(sample.reduce((s, d) => s + d.candidates.length, 0) / sample.length, 2)}; planned ${planned}/${CALLS + WARMUP}`);
  console.log(`read rows: ${fmt(readMs)} ms   build index: median ${fmt(builds[2]!)} ms, max ${fmt(buildMs)} ms (5 builds)`);
  console.log(row('decide (number cache)', decideOnly));
  console.log(row('decide (no cache)', decideUncached));
  console.log(row('planCall (decide + identity plans)', planOnly));
  console.log(row(`records statement only${mmapMb > 0 ? ` (mmap ${mmapMb} MB)` : ''}`, statement));
  console.log(row('lead + data_version, cached campaign/list', versioned));
  console.log(row('stat of the path (store: at most once per ms)', stat));
  console.log(row('store.lookup', lookup));
  console.log(row('DAEMON PATH: store.lookup + planCall', daemon));
  console.log(row('daemon path again, after the other rows', daemonAgain));
  console.log(`${'daemon path, each call after a 10 ms sleep'.padEnd(46)} ${String(IDLE_CALLS).padStart(7)} calls               p50 ${fmt(afterIdle.p50).padStart(6)} µs  p99 ${fmt(afterIdle.p99).padStart(6)} µs`);
  console.log(`RSS ${fmt(rssMb)} MB after the daemon path (store, index, planner, call IDs); ${fmt(endRssMb)} MB at the end (bench stages, second handle, 6 more index builds)`);
  // The issue's targets are for the routing decision — the pure function of (call, replica rows), no I/O.
  const checks: [string, boolean, string][] = [
    [`decide: decisions/s >= ${TARGET_RATE}`, decideOnly.rate >= TARGET_RATE, fmt(decideOnly.rate, 0)],
    [`decide: p99 <= ${TARGET_P99_US} µs`, decideOnly.p99 <= TARGET_P99_US, `${fmt(decideOnly.p99)} µs`],
    [`index build <= ${TARGET_BUILD_MS} ms`, buildMs <= TARGET_BUILD_MS, `${fmt(buildMs)} ms`],
    [`RSS <= ${TARGET_RSS_MB} MB`, rssMb <= TARGET_RSS_MB, `${fmt(rssMb)} MB`],
  ];
  // The same bounds applied to the whole per-call path (the decision plus its SQLite read): reported against
  // them, not part of the exit code — on a shared VM this row moves by ±20% from run to run.
  const beyond: [string, boolean, string][] = [
    [`daemon path: decisions/s >= ${TARGET_RATE}`, daemon.rate >= TARGET_RATE, fmt(daemon.rate, 0)],
    [`daemon path: per CPU-second >= ${TARGET_RATE}`, daemon.cpuRate >= TARGET_RATE, fmt(daemon.cpuRate, 0)],
    [`daemon path: p99 <= ${TARGET_P99_US} µs`, daemon.p99 <= TARGET_P99_US, `${fmt(daemon.p99)} µs`],
  ];
  console.log('');
  for (const [name, pass, value] of checks) console.log(`${pass ? 'PASS' : 'FAIL'}  ${name.padEnd(40)} ${value}`);
  console.log('beyond the issue (decision + replica read, not in the exit code):');
  for (const [name, pass, value] of beyond) console.log(`${pass ? 'pass' : 'miss'}  ${name.padEnd(40)} ${value}`);
  return checks.every(([, pass]) => pass);
}

function main(): number {
  const leads = Number(argValue('--leads') ?? 1_000_000);
  if (!Number.isSafeInteger(leads) || leads < 1) {
    console.error('--leads must be a positive integer');
    return 2;
  }
  const measurePath = argValue('--measure');
  const mmapMb = Number(argValue('--mmap-mb') ?? 0);
  if (measurePath !== undefined) return runMeasurements(measurePath, leads, mmapMb) ? 0 : 1;

  const given = argValue('--replica');
  const dir = given === undefined ? mkdtempSync(join(tmpdir(), 'bench-routing-')) : undefined;
  const path = given ?? join(dir!, 'replica.db');
  try {
    if (!existsSync(path)) {
      const t0 = process.hrtime.bigint();
      buildBenchReplica(path, leads);
      console.log(`built replica in ${(Number(process.hrtime.bigint() - t0) / 1e9).toFixed(1)} s: ${path}`);
    }
    const child = spawnSync(process.execPath, [...process.execArgv, '--expose-gc', fileURLToPath(import.meta.url), '--measure', path, '--leads', String(leads), '--mmap-mb', String(mmapMb)], { stdio: 'inherit' });
    return child.status ?? 1;
  } finally {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  }
}

process.exitCode = main();
