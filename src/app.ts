/**
 * Composition root: builds every part of the daemon from a validated config and injected edges (logger,
 * clock, file reader) and owns their lifecycle. `src/main.ts` owns the process; this module owns the order.
 *
 * Start: replica (a missing or unusable replica is NOT fatal: the daemon starts not-ready, calls fail with
 * `replica_unavailable` → TEMPORARY_FAILURE, and the watch job picks the file up when it appears) → signing
 * keys (fatal: a configured key that cannot be read is an operator error) → HTTP → ESL → jobs → ready line.
 *
 * Close (fixed drain order): refuse new sessions cheaply and stop accepting → stop jobs → wait for in-flight
 * calls up to `shutdown.grace_seconds` → destroy the rest → close HTTP → close the replica. Logs are flushed
 * by main. `close()` and `destroy()` are idempotent.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { createCallPlanner } from './call/planner.js';
import { createCallHandler, type CallHandler } from './call/session.js';
import type { Config } from './config/schema.js';
import { eslScanner } from './esl/simd-scan.js';
import { createEslServer, type EslServer } from './esl/server.js';
import { loadSigningKeys, type ReadKeyFile, type SigningKeys } from './identity/keys.js';
import { createScheduler, callrouterJobs, type Scheduler } from './jobs/scheduler.js';
import { createEventLoopWatch, eventLoopProbe } from './observability/event-loop-watch.js';
import { createOpsServer, type OpsServer } from './observability/http-server.js';
import { redactForLog, type Logger } from './observability/logger.js';
import { createMetrics, type Metrics } from './observability/metrics.js';
import { listenerProbe, type Probe, type ProbeResult } from './observability/probes.js';
import { createReplicaAgeTracker } from './observability/replica-age.js';
import { createReplicaStore, type ReplicaStore } from './replica/store.js';
import { callPlanOptionsFromConfig } from './routing/call-plan.js';
import { buildRouteIndex, type RouteIndex } from './routing/route-index.js';
import type { ListenAddress } from './config/listen-address.js';

export interface AppDeps {
  logger: Logger;
  /** Reads signing-key files (main passes fs.readFileSync). */
  readFile: ReadKeyFile;
  /** Epoch milliseconds. */
  now: () => number;
  /** Build version for `callrouter_build_info` and the ready line. */
  version?: string;
}

export interface StartedAddresses {
  esl: { host: string; port: number };
  metrics: ListenAddress;
}

export interface App {
  /** Bind and start. @throws ListenError / IdentityKeyError on start-up failures. */
  start(): Promise<StartedAddresses>;
  /** Graceful drain; `drained` is false when the grace timer had to cut calls. Idempotent. */
  close(): Promise<{ drained: boolean }>;
  /** Abrupt stop: every session destroyed, listeners closed. Idempotent. */
  destroy(): void;
  /** SIGHUP: apply a new (already validated) config and reopen the replica. Never throws. */
  reload(next: Config): void;
  /** Sessions currently open. */
  activeSessions(): number;
}

/**
 * Faults that keep the daemon not-ready even while the last good data still answers lookups. A newer schema
 * needs an operator (upgrade callrouter); without this, readiness flapped — a successful lookup marked the
 * handle readable again until the next watch tick re-failed the load.
 */
const NOT_READY_WHILE_SERVING: ReadonlySet<string> = new Set(['replica_schema_newer']);

/** Readiness of the replica: open, readable, and a route index to serve from. */
function replicaProbe(current: () => ReplicaStore<RouteIndex>): Probe {
  return () => {
    const store = current();
    const s = store.status();
    const detail = { schema_version: s.schemaVersion, routes: s.routeCount, file_exists: s.fileExists, mode: s.mode };
    if (!s.open || !s.readable || store.current() === undefined || NOT_READY_WHILE_SERVING.has(s.lastError?.code ?? '')) {
      return { ok: false, reason: s.lastError ? `${s.lastError.code}: ${s.lastError.message}` : 'replica not open', detail };
    }
    return { ok: true, detail: s.lastError ? { ...detail, warning: s.lastError.code } : detail };
  };
}

export function createApp(initial: Config, deps: AppDeps): App {
  let config = initial;
  const log = deps.logger;
  const precise = (): number => performance.timeOrigin + performance.now();

  let keys: SigningKeys = loadSigningKeys(config.identity, deps.readFile);
  let store = newStore(config);
  const ageTracker = createReplicaAgeTracker({ maxAgeSeconds: config.replica.max_age_seconds, now: deps.now });
  let esl: EslServer | undefined;
  let eslListening = false;

  const metrics: Metrics = createMetrics(
    {
      activeSessions: () => esl?.activeCount() ?? 0,
      replicaInfo: () => {
        const s = store.status();
        return s.schemaVersion === null ? null : { schemaVersion: s.schemaVersion, routes: s.routeCount };
      },
      replicaAge: () => ageTracker.age(),
      ready: () => readiness().every((r) => r.ok),
    },
    { replicaMaxAgeSeconds: config.replica.max_age_seconds, version: deps.version ?? 'unknown' },
  );

  let handler: CallHandler = newHandler(config);
  const loopWatch = createEventLoopWatch();
  // One set of readiness probes feeds /readyz and the callrouter_ready gauge. The store is read through a getter
  // because SIGHUP may replace it.
  const readinessProbes: Record<string, Probe> = {
    esl: listenerProbe('esl listener', () => eslListening),
    replica: replicaProbe(() => store),
    replica_age: () => ageTracker.probe(),
  };
  const readiness = (): ProbeResult[] => Object.values(readinessProbes).map((probe) => probe());
  const ops: OpsServer = createOpsServer({
    listen: config.metrics.listen,
    metrics,
    liveness: { event_loop: eventLoopProbe(loopWatch, config.metrics.stall_ms) },
    readiness: readinessProbes,
    logger: log,
  });
  let jobs: Scheduler = newJobs(config);

  function newStore(c: Config): ReplicaStore<RouteIndex> {
    return createReplicaStore<RouteIndex>({
      path: c.replica.path,
      busyTimeoutMs: c.replica.busy_timeout_ms,
      buildIndex: buildRouteIndex,
      countRoutes: (index) => index.routeCount,
      now: deps.now,
    });
  }

  function newHandler(c: Config): CallHandler {
    return createCallHandler({
      config: c,
      plan: createCallPlanner({ lookup: (campaign, lead) => store.lookup(campaign, lead) }, callPlanOptionsFromConfig(c)),
      keys,
      metrics,
      logger: log,
      now: precise,
      newUuid: randomUUID,
    });
  }

  function newJobs(c: Config): Scheduler {
    return createScheduler(
      callrouterJobs(c, {
        refresh: () => store.refresh(),
        replicaStatus: () => store.status(),
        ageTracker,
        metrics,
        activeSessions: () => esl?.activeCount() ?? 0,
        logger: log,
      }),
      log,
    );
  }

  function openReplica(): void {
    try {
      store.open();
      const s = store.status();
      log.info({ replica: config.replica.path, schema_version: s.schemaVersion, routes: s.routeCount }, 'replica open');
    } catch (err) {
      log.error(
        { err, replica: config.replica.path },
        'replica unavailable at start-up: not ready; calls fail with replica_unavailable until the watch job opens it',
      );
    }
    ageTracker.update(store.status());
  }

  let closing: Promise<{ drained: boolean }> | undefined;
  let destroyed = false;

  return {
    async start() {
      openReplica();
      const metricsAddr = await ops.listen();
      esl = createEslServer({
        listen: config.esl.listen,
        allowFrom: config.esl.allow_from,
        maxSessions: config.esl.max_sessions,
        maxFrameBytes: config.esl.max_frame_bytes,
        connectTimeoutMs: config.esl.connect_timeout_ms,
        commandTimeoutMs: config.esl.command_timeout_ms,
        onSession: (conn) => handler(conn, { acceptedAt: precise() }),
        onRefused: (reason, address) => {
          metrics.sessionRefused(reason);
          if (reason === 'not_allowed') log.warn({ remote_address: address }, 'esl connection refused: peer not in esl.allow_from');
        },
        onError: (err) => log.error({ err }, 'esl session error'),
      });
      let eslAddr: { host: string; port: number };
      try {
        eslAddr = await esl.listen();
      } catch (err) {
        await ops.close();
        throw err;
      }
      eslListening = true;
      jobs.start();
      log.info(
        {
          esl: `${eslAddr.host}:${eslAddr.port}`,
          metrics: `${metricsAddr.host}:${metricsAddr.port}`,
          replica: config.replica.path,
          ready: readiness().every((r) => r.ok),
          version: deps.version ?? 'unknown',
          // `js` where this CPU or V8 lacks WebAssembly SIMD: the switch's frames then cost ~8% more to read (README, Logs).
          esl_scanner: eslScanner,
          config: redactForLog(config),
        },
        'callrouter ready',
      );
      return { esl: eslAddr, metrics: metricsAddr };
    },

    close() {
      closing ??= (async () => {
        const server = esl;
        eslListening = false;
        server?.stopAccepting();
        await jobs.stop();
        let drained = true;
        if (server && server.activeCount() > 0) {
          const graceMs = config.shutdown.grace_seconds * 1000;
          let timer: NodeJS.Timeout | undefined;
          const expired = new Promise<'expired'>((resolve) => {
            timer = setTimeout(() => resolve('expired'), graceMs);
          });
          const outcome = await Promise.race([server.close().then(() => 'drained' as const), expired]);
          clearTimeout(timer);
          if (outcome === 'expired') {
            drained = false;
            log.warn({ active_sessions: server.activeCount(), grace_seconds: config.shutdown.grace_seconds }, 'grace period over: cutting the remaining calls');
            server.destroyAll();
          }
        }
        await server?.close();
        await ops.close();
        loopWatch.stop();
        store.close();
        log.info({ drained }, 'callrouter stopped');
        return { drained };
      })();
      return closing;
    },

    destroy() {
      if (destroyed) return;
      destroyed = true;
      eslListening = false;
      esl?.stopAccepting();
      esl?.destroyAll();
      void jobs.stop();
      void ops.close();
      loopWatch.stop();
      store.close();
    },

    reload(next) {
      const fixed = ['esl.listen', 'metrics.listen'].filter((k) => {
        const [a, b] = k.split('.') as ['esl' | 'metrics', 'listen'];
        return next[a][b] !== config[a][b];
      });
      if (fixed.length > 0) log.warn({ keys: fixed }, 'SIGHUP: listener addresses change only on restart');
      // The ESL server is built once with these; say so rather than silently keep the old allow list.
      const serverKeys = (['allow_from', 'max_sessions', 'max_frame_bytes'] as const).filter(
        (k) => JSON.stringify(next.esl[k]) !== JSON.stringify(config.esl[k]),
      );
      if (serverKeys.length > 0) {
        log.warn({ keys: serverKeys.map((k) => `esl.${k}`) }, 'SIGHUP: esl listener settings change only on restart');
      }
      try {
        keys = loadSigningKeys(next.identity, deps.readFile);
      } catch (err) {
        log.error({ err }, 'SIGHUP: signing keys rejected; keeping the old configuration');
        return;
      }
      const pathChanged = next.replica.path !== config.replica.path;
      config = next;
      log.level = next.log.level;
      if (pathChanged) {
        const old = store;
        store = newStore(next);
        openReplica();
        old.close();
      } else {
        const r = store.reopen();
        metrics.replicaReload(r.result);
        if (r.error) log.error({ code: r.error.code, reason: r.error.message }, 'SIGHUP: replica reopen failed; serving the last good data');
      }
      handler = newHandler(next);
      void jobs.stop().then(() => {
        if (closing || destroyed) return;
        jobs = newJobs(next);
        jobs.start();
      });
      log.info({ replica: next.replica.path }, 'SIGHUP: configuration reloaded');
    },

    activeSessions: () => esl?.activeCount() ?? 0,
  };
}
