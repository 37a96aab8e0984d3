/**
 * Every Prometheus metric callrouter exports, defined in one place on our OWN registry (never prom-client's
 * global one). Metric names and label sets are a contract (dashboards, alerts). Label values are bounded:
 * fixed enumerations, and carrier names capped by `createLabelCap` — never UUIDs, numbers or caller IDs.
 * Point-in-time gauges read injected providers in `collect()`, so nothing has to push them.
 */
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import { CALL_ERROR_CODES, type CallErrorCode, CARRIER_REJECT_REASONS, type CarrierRejectReason } from '../errors.js';
import { ATTEMPT_RESULTS, type AttemptResult } from './attempt-result.js';
import { CallHistogram } from './call-histogram.js';
import { createLabelCap, OVERFLOW_LABEL } from './label-cap.js';
import { PendingCounts } from './pending-counts.js';

export const CALL_OUTCOMES = [
  'answered', 'busy', 'no_answer', 'rejected', 'failed', 'no_route', 'invalid', 'caller_hangup', 'error',
] as const;
/** How a whole call ended (one per call). */
export type CallOutcome = (typeof CALL_OUTCOMES)[number];

export const DECISION_SOURCES = ['forced', 'route'] as const;
export type DecisionSource = (typeof DECISION_SOURCES)[number];

export const REFUSAL_REASONS = ['max_sessions', 'not_allowed', 'shutting_down'] as const;
/** Why a connection from FreeSWITCH was closed before any call handling. */
export type RefusalReason = (typeof REFUSAL_REASONS)[number];

export const RELOAD_RESULTS = ['unchanged', 'reloaded', 'reopened', 'failed', 'kept_last_good'] as const;
/** What one replica change check did (the replica store's RefreshOutcome). */
export type ReloadResult = (typeof RELOAD_RESULTS)[number];

export type AttestationLevel = 'A' | 'B' | 'C';
export type IdentityMode = 'header' | 'passport' | 'none';

/** Where the replica age is measured from: newest row `updated_at`, or the file's mtime when rows lack it. */
export type ReplicaAgeSource = 'updated_at' | 'mtime';

/** Read at scrape time; each may be omitted (the gauge then stays empty / zero). Must be cheap and not throw. */
export interface MetricsProviders {
  /** Sessions currently open. */
  activeSessions?: () => number;
  /** The open replica: schema version and routes in the route index; null when none is open. */
  replicaInfo?: () => { schemaVersion: number; routes: number } | null;
  /** Current replica age; null when unknown (see `createReplicaAgeTracker`). */
  replicaAge?: () => { seconds: number; source: ReplicaAgeSource } | null;
  /** Whether /readyz would answer 200 (exported so alerts can see readiness). */
  ready?: () => boolean;
}

export interface MetricsOptions {
  /** `replica.max_age_seconds`, exported as a gauge so alerts compare against the configured bound. */
  replicaMaxAgeSeconds?: number;
  /** Build version for `callrouter_build_info`. */
  version?: string;
  /** Distinct carrier label values before `other` (default 1,000). */
  carrierLabelLimit?: number;
  /** Register process_* and nodejs_* default metrics (default true; tests may turn off). */
  defaultMetrics?: boolean;
}

/** Totals since start, for the periodic stats log line. */
export interface MetricsTotals {
  calls: Record<CallOutcome, number>;
  attempts: Record<AttemptResult, number>;
  failovers: number;
  refused: Record<RefusalReason, number>;
}

/** The metrics facade the rest of the daemon records into. All methods are cheap, synchronous and never throw. */
export interface Metrics {
  readonly registry: Registry;
  /** One per call, when it ends. */
  callOutcome(outcome: CallOutcome): void;
  /** One per routed call: whether the forced carrier or the route table produced the first candidate. */
  routeDecision(source: DecisionSource): void;
  /** A campaign's forced carrier could not be used and routing fell back to the routes. */
  forcedCarrierFallback(reason: CarrierRejectReason): void;
  /** One per bridge attempt (carrier leg); `result` from `classifyAttempt`. */
  bridgeAttempt(carrier: string, result: AttemptResult): void;
  /** An attempt failed over from `fromCarrier` to the next candidate. */
  failover(fromCarrier: string): void;
  /** A call ended with a typed error code. */
  callError(code: CallErrorCode): void;
  /** A connection was refused before handling. */
  sessionRefused(reason: RefusalReason): void;
  /** One replica change check (the replica watch job). */
  replicaReload(result: ReloadResult): void;
  /** A call carried (or would have carried) an attestation; `downgraded` when the level was lowered (e.g. A→B). */
  attestation(level: AttestationLevel, mode: IdentityMode, downgraded: boolean): void;
  /** Time spent in the routing decision, seconds. */
  observeDecision(seconds: number): void;
  /** Accept of the connection → bridge command sent, seconds. */
  observeSetup(seconds: number): void;
  /** Bridge sent → answer (post-dial delay), seconds, per carrier. */
  observeAnswerDelay(carrier: string, seconds: number): void;
  /** Exposition text for GET /metrics. */
  render(): Promise<string>;
  /** Content-Type of `render()`'s output. */
  readonly contentType: string;
  /** Totals since start (reads the counters). */
  totals(): Promise<MetricsTotals>;
}

function oneOf<T extends string>(value: string, allowed: readonly T[]): T | typeof OVERFLOW_LABEL {
  return (allowed as readonly string[]).includes(value) ? (value as T) : OVERFLOW_LABEL;
}

/** Run a provider; a throwing provider leaves the gauge empty rather than failing the scrape. */
function read<T>(fn: (() => T) | undefined): T | undefined {
  try {
    return fn?.();
  } catch {
    return undefined;
  }
}

/** Create the registry and every metric. Each call makes an independent registry (tests create many). */
export function createMetrics(providers: MetricsProviders = {}, opts: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  const registers = [registry];
  const carrier = createLabelCap(opts.carrierLabelLimit ?? 1000);
  const callCodes = Object.keys(CALL_ERROR_CODES) as CallErrorCode[];
  const rejectReasons = Object.keys(CARRIER_REJECT_REASONS) as CarrierRejectReason[];

  // What every call counts goes through PendingCounts (see there); the rare ones straight to prom-client.
  const callCounts = new PendingCounts({ name: 'callrouter_calls_total', help: 'Calls handled, by how they ended', labelNames: ['outcome'], registers });
  const decisionCounts = new PendingCounts({ name: 'callrouter_route_decisions_total', help: 'Routing decisions by where the first carrier came from', labelNames: ['source'], registers });
  const fallbacks = new Counter({ name: 'callrouter_forced_carrier_fallbacks_total', help: "Campaign forced carriers not used (fell back to routes), by reason", labelNames: ['reason'], registers });
  const attemptCounts = new PendingCounts({ name: 'callrouter_bridge_attempts_total', help: 'Bridge attempts per carrier and result', labelNames: ['carrier', 'result'], registers });
  const failovers = new Counter({ name: 'callrouter_failovers_total', help: 'Failovers to the next carrier, by the carrier that failed', labelNames: ['from_carrier'], registers });
  const errorCounts = new PendingCounts({ name: 'callrouter_call_errors_total', help: 'Calls ended by a typed error code', labelNames: ['code'], registers });
  const refused = new Counter({ name: 'callrouter_sessions_refused_total', help: 'Connections refused before handling', labelNames: ['reason'], registers });
  const reloads = new Counter({ name: 'callrouter_replica_reloads_total', help: 'Replica change checks by result', labelNames: ['result'], registers });
  const attestationCounts = new PendingCounts({ name: 'callrouter_attestations_total', help: 'STIR/SHAKEN attestations by level, identity mode and downgrade', labelNames: ['level', 'mode', 'downgraded'], registers });
  const calls = callCounts.counter;
  const decisions = decisionCounts.counter;
  const attempts = attemptCounts.counter;
  const errors = errorCounts.counter;

  const decisionTime = new CallHistogram({
    name: 'callrouter_decision_duration_seconds', help: 'Routing decision time',
    buckets: [0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05], registers,
  });
  const setupTime = new CallHistogram({
    name: 'callrouter_setup_duration_seconds', help: 'Connection accepted to bridge command sent',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], registers,
  });
  const answerDelay = new CallHistogram({
    name: 'callrouter_answer_delay_seconds', help: 'Bridge sent to answer (post-dial delay) per carrier', labelNames: ['carrier'],
    buckets: [0.5, 1, 2, 3, 5, 8, 13, 20, 30, 45, 60, 90, 120], registers,
  });

  new Gauge({
    name: 'callrouter_active_sessions', help: 'Sessions currently open', registers,
    collect() { this.set(read(providers.activeSessions) ?? 0); },
  });
  new Gauge({
    name: 'callrouter_replica_info', help: 'The open replica (value 1), labelled with its schema version', labelNames: ['schema_version'], registers,
    collect() {
      this.reset();
      const info = read(providers.replicaInfo);
      if (info) this.set({ schema_version: String(info.schemaVersion) }, 1);
    },
  });
  new Gauge({
    name: 'callrouter_route_index_routes', help: 'Routes in the in-memory route index', registers,
    collect() { this.set(read(providers.replicaInfo)?.routes ?? 0); },
  });
  new Gauge({
    name: 'callrouter_replica_age_seconds', help: 'Now minus the newest replica data time; source says which time', labelNames: ['source'], registers,
    collect() {
      this.reset();
      const age = read(providers.replicaAge);
      if (age) this.set({ source: age.source }, age.seconds);
    },
  });
  new Gauge({ name: 'callrouter_replica_max_age_seconds', help: 'Configured replica.max_age_seconds (0 = off)', registers })
    .set(opts.replicaMaxAgeSeconds ?? 0);
  new Gauge({
    name: 'callrouter_ready', help: '1 when /readyz answers 200', registers,
    collect() { this.set(read(providers.ready) ? 1 : 0); },
  });
  new Gauge({ name: 'callrouter_build_info', help: 'Build version (value 1)', labelNames: ['version'], registers })
    .set({ version: opts.version ?? 'unknown' }, 1);

  if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: registry });

  // Zero every bounded series up front so rate() and absence alerts work from the first scrape.
  for (const o of CALL_OUTCOMES) calls.inc({ outcome: o }, 0);
  for (const s of DECISION_SOURCES) decisions.inc({ source: s }, 0);
  for (const r of rejectReasons) fallbacks.inc({ reason: r }, 0);
  for (const c of callCodes) errors.inc({ code: c }, 0);
  for (const r of REFUSAL_REASONS) refused.inc({ reason: r }, 0);
  for (const r of RELOAD_RESULTS) reloads.inc({ result: r }, 0);

  const valid = (seconds: number): boolean => Number.isFinite(seconds) && seconds >= 0;
  // The unlabelled series, looked up once.
  const decisionSeries = decisionTime.series();
  const setupSeries = setupTime.series();

  return {
    registry,
    contentType: registry.contentType,
    callOutcome: (o) => callCounts.add({ outcome: oneOf(o, CALL_OUTCOMES) }),
    routeDecision: (s) => decisionCounts.add({ source: oneOf(s, DECISION_SOURCES) }),
    forcedCarrierFallback: (r) => fallbacks.inc({ reason: oneOf(r, rejectReasons) }),
    bridgeAttempt: (c, r) => attemptCounts.add({ carrier: carrier(c), result: oneOf(r, ATTEMPT_RESULTS) }),
    failover: (c) => failovers.inc({ from_carrier: carrier(c) }),
    callError: (c) => errorCounts.add({ code: oneOf(c, callCodes) }),
    sessionRefused: (r) => refused.inc({ reason: oneOf(r, REFUSAL_REASONS) }),
    replicaReload: (r) => reloads.inc({ result: oneOf(r, RELOAD_RESULTS) }),
    attestation: (level, mode, downgraded) =>
      attestationCounts.add({ level: oneOf(level, ['A', 'B', 'C']), mode: oneOf(mode, ['header', 'passport', 'none']), downgraded: downgraded ? 'true' : 'false' }),
    observeDecision: (s) => {
      if (valid(s)) decisionSeries.observe(s);
    },
    observeSetup: (s) => {
      if (valid(s)) setupSeries.observe(s);
    },
    observeAnswerDelay: (c, s) => {
      if (valid(s)) answerDelay.series({ carrier: carrier(c) }).observe(s);
    },
    render: () => registry.metrics(),
    async totals() {
      const sum = async (c: Counter<string>, label: string): Promise<Record<string, number>> => {
        const out: Record<string, number> = {};
        for (const v of (await c.get()).values) {
          const k = String(v.labels[label] ?? '');
          out[k] = (out[k] ?? 0) + v.value;
        }
        return out;
      };
      const byResult = await sum(attempts, 'result');
      const byOutcome = await sum(calls, 'outcome');
      const byRefusal = await sum(refused, 'reason');
      const failed = await sum(failovers, 'from_carrier');
      return {
        calls: Object.fromEntries(CALL_OUTCOMES.map((o) => [o, byOutcome[o] ?? 0])) as Record<CallOutcome, number>,
        attempts: Object.fromEntries(ATTEMPT_RESULTS.map((r) => [r, byResult[r] ?? 0])) as Record<AttemptResult, number>,
        failovers: Object.values(failed).reduce((a, b) => a + b, 0),
        refused: Object.fromEntries(REFUSAL_REASONS.map((r) => [r, byRefusal[r] ?? 0])) as Record<RefusalReason, number>,
      };
    },
  };
}
