/**
 * End-to-end harness for the call session: the real ESL server (port 0) + createCallHandler + a replica built
 * by test/fixtures/replica.ts + the fake FreeSWITCH as the peer, with logs captured and metrics readable.
 */
import type { Test } from 'tap';
import { generateKeyPairSync } from 'node:crypto';
import { createCallHandler } from '../../src/call/session.js';
import { createCallPlanner } from '../../src/call/planner.js';
import { ConfigSchema, type Config } from '../../src/config/schema.js';
import { createEslServer } from '../../src/esl/server.js';
import type { SigningKeys } from '../../src/identity/keys.js';
import { createLogger } from '../../src/observability/logger.js';
import { createMetrics, type Metrics } from '../../src/observability/metrics.js';
import { createReplicaStore } from '../../src/replica/store.js';
import { callPlanOptionsFromConfig } from '../../src/routing/call-plan.js';
import { buildRouteIndex, type RouteIndex } from '../../src/routing/route-index.js';
import type { CallInput } from '../../src/routing/types.js';
import { buildReplica, type ReplicaSpec } from '../fixtures/replica.js';
import { FakeFreeSwitch, type GatewayScript } from '../fake-freeswitch/fake-freeswitch.js';

export const X5U = 'https://cert.example.org/t1.pem';
const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
export const PUBLIC_KEY = pair.publicKey;

/** Keys for tenant t1 only. */
export const KEYS: SigningKeys = {
  keyFor: (tenantId) => (tenantId === 't1' ? { key: pair.privateKey, x5u: X5U, owner: 't1' } : undefined),
  hasGlobal: false,
  tenantIds: ['t1'],
};

/** The usual world: tenant t1, campaign camp1, lead lead1 (+1 415 555 0123) on list1 (CLI +1 212 555 0100). */
export function world(patch: Partial<ReplicaSpec> = {}): ReplicaSpec {
  return {
    carriers: [
      { id: 'c_dead', name: 'carrier_dead' },
      { id: 'c_a', name: 'carrier_a' },
      { id: 'c_b', name: 'carrier_b' },
    ],
    routes: [
      { id: 'r1', prefix: '1', carrierId: 'c_dead', priority: 1 },
      { id: 'r2', prefix: '1', carrierId: 'c_a', priority: 2 },
    ],
    campaigns: [{ id: 'camp1', name: 'Campaign One' }],
    leadLists: [{ id: 'list1', name: 'List One', callerId: '+12125550100' }],
    leads: [{ id: 'lead1', primaryPhone: '+14155550123' }],
    ...patch,
  };
}

export const VARS = { g2d_campaign_id: 'camp1', g2d_lead_id: 'lead1' };

export interface HarnessOptions {
  spec?: ReplicaSpec;
  config?: Record<string, unknown>;
  gateways?: Record<string, GatewayScript>;
  /** Runs inside the plan dependency (after the decision), e.g. to hang up or drop mid-call. */
  onPlan?: (input: CallInput) => void;
  /** Replace the plan dependency's result (e.g. replica_unavailable). */
  planOverride?: () => ReturnType<ReturnType<typeof createCallPlanner>>;
  /** Scales the session's own timers (attempt bound, hangup-complete wait); default 1. */
  sessionTimeScale?: number;
}

export interface Harness {
  fs: FakeFreeSwitch;
  /** The daemon side's listening port (for raw peers). */
  port: number;
  metrics: Metrics;
  config: Config;
  logs: Array<Record<string, unknown>>;
  /** The summary line of every call ended so far. */
  summaries(): Array<Record<string, unknown>>;
  activeSessions(): number;
  /** Resolves once every session has ended (bounded by a few event-loop turns). */
  settled(): Promise<void>;
  counter(name: string, labels: Record<string, string>): Promise<number>;
}

export async function harness(t: Test, opts: HarnessOptions = {}): Promise<Harness> {
  const path = buildReplica(t.testdir(), opts.spec ?? world());
  const store = createReplicaStore<RouteIndex>({ path, busyTimeoutMs: 200, buildIndex: (rows) => buildRouteIndex(rows), now: Date.now });
  store.open();
  t.teardown(() => store.close());
  const config = ConfigSchema.parse(opts.config ?? {});
  const metrics = createMetrics({}, { defaultMetrics: false });
  const logs: Array<Record<string, unknown>> = [];
  const logger = createLogger({ level: 'info' }, { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) });
  const planner = createCallPlanner(store, callPlanOptionsFromConfig(config));
  let uuidCounter = 0;
  const handler = createCallHandler({
    config,
    plan: (input) => {
      const result = opts.planOverride ? opts.planOverride() : planner(input);
      opts.onPlan?.(input);
      return result;
    },
    keys: KEYS,
    metrics,
    logger,
    now: Date.now,
    ...(opts.sessionTimeScale !== undefined
      ? { timers: { setTimeout: (fn: () => void, ms: number) => setTimeout(fn, ms * opts.sessionTimeScale!), clearTimeout: (h: unknown) => clearTimeout(h as NodeJS.Timeout) } }
      : {}),
    newUuid: () => `00000000-0000-4000-8000-${String(++uuidCounter).padStart(12, '0')}`,
  });
  const server = createEslServer({
    listen: '127.0.0.1:0',
    allowFrom: ['127.0.0.0/8'],
    maxSessions: 100,
    maxFrameBytes: config.esl.max_frame_bytes,
    connectTimeoutMs: 2000,
    commandTimeoutMs: 2000,
    onSession: (conn) => handler(conn, { acceptedAt: Date.now() }),
    onError: (err) => t.fail(`server reported an error: ${String(err)}`),
  });
  const { port } = await server.listen();
  const fs = new FakeFreeSwitch({ daemonPort: port, timeScale: 0.01, gateways: opts.gateways ?? {} });
  t.teardown(async () => {
    await fs.close();
    server.destroyAll();
    await server.close();
  });
  const settled = async (): Promise<void> => {
    for (let i = 0; i < 200 && server.activeCount() > 0; i++) await new Promise((r) => setTimeout(r, 5));
  };
  return {
    fs,
    port,
    metrics,
    config,
    logs,
    summaries: () => logs.filter((l) => l['msg'] === 'call'),
    activeSessions: () => server.activeCount(),
    settled,
    async counter(name, labels) {
      const metric = (await metrics.registry.getMetricsAsJSON()).find((m) => m.name === name);
      const values = (metric?.values ?? []) as Array<{ labels: Record<string, string | number>; value: number }>;
      const hit = values.find((v) => Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want));
      return hit?.value ?? 0;
    },
  };
}

/** Standard gateway scripts. */
export const GATEWAYS: Record<string, GatewayScript> = {
  carrier_dead: { type: 'fail', status: 503, afterMs: 20 },
  carrier_a: { type: 'answer', afterMs: 100, progress: 180, progressAfterMs: 20, hangupAfterMs: 200 },
  carrier_b: { type: 'answer', afterMs: 50, hangupAfterMs: 100 },
  carrier_busy: { type: 'fail', status: 486 },
  carrier_silent: { type: 'silent' },
};
