/**
 * The only module that touches node-cron. Every job is created STOPPED (`cron.createTask`), named, with
 * `noOverlap` (a slow replica check never stacks up behind itself); `start()` starts them all, `stop()`
 * stops and destroys them. Job bodies live in their own modules as plain functions tested without a clock;
 * this module only wires schedules to them and turns a throwing body into a log line.
 */
import cron, { type ScheduledTask } from 'node-cron';
import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import type { Metrics } from '../observability/metrics.js';
import type { ReplicaAgeTracker, ReplicaTimeSample } from '../observability/replica-age.js';
import type { RefreshResult } from '../replica/store.js';
import { runReplicaAgeCheck } from './replica-age.js';
import { newReplicaWatchState, runReplicaWatch } from './replica-watch.js';
import { runStatsLog } from './stats-log.js';

export interface JobSpec {
  /** Unique name, used in logs and as the node-cron task name. */
  name: string;
  /** node-cron expression (validated at config load). */
  schedule: string;
  run: () => unknown;
}

export interface Scheduler {
  /** Start every job (idempotent). */
  start(): void;
  /** Stop and destroy every job (idempotent, terminal). Resolves once node-cron has let go of them. */
  stop(): Promise<void>;
  /** The job names, in order. */
  readonly names: readonly string[];
}

/**
 * Create the tasks (stopped).
 * @throws Error when a schedule is invalid or names repeat — start-up bugs, config has validated the cron keys.
 */
export function createScheduler(jobs: readonly JobSpec[], logger: Logger): Scheduler {
  const log = logger.child({ component: 'jobs' });
  const names = jobs.map((j) => j.name);
  if (new Set(names).size !== names.length) throw new Error(`duplicate job names: ${names.join(', ')}`);
  const cronLogger = {
    info: (msg: string) => log.debug(msg),
    warn: (msg: string) => log.warn(msg),
    error: (msg: string | Error, err?: Error) => log.error({ err: err ?? msg }, 'scheduler error'),
    debug: (msg: string | Error) => log.debug(String(msg)),
  };
  const tasks: ScheduledTask[] = jobs.map((job) => {
    if (!cron.validate(job.schedule)) throw new Error(`job ${job.name}: invalid cron expression ${JSON.stringify(job.schedule)}`);
    const body = async (): Promise<void> => {
      try {
        await job.run();
      } catch (err) {
        log.error({ err, job: job.name }, 'job failed');
      }
    };
    const task = cron.createTask(job.schedule, body, { name: job.name, noOverlap: true, logger: cronLogger });
    // Our own handlers replace node-cron's console warnings (missed = the event loop was blocked).
    task.on('execution:overlap', () => log.debug({ job: job.name }, 'previous run still busy; tick skipped'));
    task.on('execution:missed', () => log.warn({ job: job.name }, 'job tick missed (event loop blocked?)'));
    return task;
  });
  let started = false;
  let stopping: Promise<void> | null = null;
  return {
    names,
    start() {
      if (started || stopping) return;
      started = true;
      for (const t of tasks) void t.start();
      log.info({ jobs: jobs.map((j) => ({ name: j.name, schedule: j.schedule })) }, 'jobs started');
    },
    stop() {
      stopping ??= (async () => {
        for (const t of tasks) {
          await t.stop();
          await t.destroy();
        }
      })();
      return stopping;
    },
  };
}

/** What the three standard jobs need from the app. */
export interface CallrouterJobDeps {
  /** The replica store's `refresh`. */
  refresh: () => RefreshResult;
  /** The replica store's `status` (its `newestUpdatedAt` and `fileMtimeMs` fields are read). */
  replicaStatus: () => ReplicaTimeSample | null;
  ageTracker: ReplicaAgeTracker;
  metrics: Pick<Metrics, 'replicaReload' | 'totals'>;
  activeSessions: () => number;
  logger: Logger;
}

/** The standard jobs: `replica-watch`, `replica-age`, `stats`, scheduled from config. */
export function callrouterJobs(config: Pick<Config, 'replica' | 'jobs'>, deps: CallrouterJobDeps): JobSpec[] {
  const logger = deps.logger.child({ component: 'jobs' });
  const watchState = newReplicaWatchState();
  return [
    {
      name: 'replica-watch',
      schedule: config.replica.watch_cron,
      run: () => runReplicaWatch({ refresh: deps.refresh, metrics: deps.metrics, logger, state: watchState }),
    },
    {
      name: 'replica-age',
      schedule: config.jobs.replica_age_cron,
      run: () =>
        runReplicaAgeCheck({ status: deps.replicaStatus, tracker: deps.ageTracker, maxAgeSeconds: config.replica.max_age_seconds, logger }),
    },
    {
      name: 'stats',
      schedule: config.jobs.stats_cron,
      run: () => runStatsLog({ metrics: deps.metrics, activeSessions: deps.activeSessions, logger }),
    },
  ];
}
