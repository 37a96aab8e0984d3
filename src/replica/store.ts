/**
 * The daemon's runtime holder of the replica: one read-only handle, its prepared queries, and the route index
 * built from it. Generic over the index type so the replica layer does not depend on routing code.
 *
 * Fault policy (what each failure does to calls):
 * - Another process commits: `PRAGMA data_version` changes; the next lookup (or the watch job, whichever
 *   comes first) re-reads carriers/routes/numbers and rebuilds the index when they differ.
 * - A writer renames a new file over the path: the inode changes; the first lookup at least
 *   `fileCheckIntervalMs` (10 ms) after the last look at the file, or the next refresh, opens it and,
 *   if valid, switches to it (the old handle is closed). If the new file is unusable the old handle — which
 *   still reads the old, unlinked inode — and the old index keep serving.
 *   Sync jobs that publish by rename should `PRAGMA wal_checkpoint(TRUNCATE)` the old file first: SQLite
 *   names `-wal`/`-shm` by path, so frames left there would be read as part of the new file.
 * - The file is deleted: the open handle still reads the unlinked inode, so calls keep being served from the
 *   last good data; refresh reports `replica_missing` every tick and `status().fileExists` is false.
 * - Truncated or overwritten in place: queries fail with SQLITE_CORRUPT, so calls fail `replica_unavailable`
 *   (there is no valid data to read); the index is kept for when a writer repairs the file.
 * - A writer holds a lock: WAL writers never block readers. A rollback-journal writer's EXCLUSIVE lock makes
 *   every query wait `busyTimeoutMs` (blocking the event loop, better-sqlite3 is synchronous) and then fail:
 *   calls get `replica_unavailable` (code `replica_busy` in the message and status).
 * - A newer schema version appears: reported as `replica_schema_newer`; the last good index keeps serving and
 *   records are still read while the columns we need exist (a newer sync job rarely changes their meaning,
 *   and readiness reports the fault so an operator upgrades).
 * - outbound_routes becomes empty while the index had routes: most likely a sync job deleting before
 *   re-inserting, so the last good index keeps serving (`kept_last_good`, `replica_routes_emptied`) until
 *   routes reappear. An operator who really removed every route sends SIGHUP: `reopen()` accepts it.
 *   (A renamed-in file without routes is the same case: records come from the new file, the index stays.)
 * - Read-only directory (systemd `ReadOnlyPaths=`), WAL replica whose writer closed cleanly: the handle is
 *   `immutable` (see database.ts) and cannot see commits, so lookups (at most once per
 *   `fileCheckIntervalMs`) and every refresh also check for
 *   frames in `<path>-wal` (a writer committed) and for a change in the file's size/mtime/inode (rewritten,
 *   checkpointed or replaced) and reopens — `shared` while the -wal has frames. Refresh goes back to
 *   immutable once a writer empties the -wal (`wal_checkpoint(TRUNCATE)`): shared reads without a live writer
 *   are ~10x slower. A shared handle keeps the -wal/-shm alive (a closing writer cannot delete them while we
 *   hold our lock); should a read still fail for want of them, the store reopens, immutable if none is left.
 */
import { createHash } from 'node:crypto';
import { statSync, type Stats } from 'node:fs';
import { ReplicaError, type CallErrorCode, type ReplicaErrorCode } from '../errors.js';
import type { CallRecords, CarrierRow, PhoneNumberRow, RouteRow } from '../routing/types.js';
import { needsWalFiles, openReplica, prefersImmutable, toReplicaError, walIsEmpty, type ReplicaDb, type ReplicaMode } from './database.js';
import { createQueries, type ReplicaQueries } from './queries.js';
import { SCHEMA_VERSION } from './schema.js';

export interface ReplicaRows {
  carriers: CarrierRow[];
  routes: RouteRow[];
  phoneNumbers: PhoneNumberRow[];
}

export interface ReplicaStoreOptions<TIndex> {
  path: string;
  /** Wait for a writer's lock this long before a query fails (config `replica.busy_timeout_ms`). */
  busyTimeoutMs: number;
  /**
   * Bound of the handle's SQLite page cache, MiB (default {@link DEFAULT_PAGE_CACHE_MB}). The hot path reads one
   * lead by primary key: with the pages of the leads B-trees cached, that read makes no pread(2) of its own
   * (measured on a 1M-lead, 67 MB replica: ~2.5 µs of ~12 µs per lookup).
   */
  pageCacheMb?: number;
  /**
   * The hot path looks at the file itself (a stat of the path, plus the `-wal` when immutable) at most once per
   * this many ms of `now()` (default {@link DEFAULT_FILE_CHECK_MS}); 0 = on every lookup. Commits through SQLite
   * on a shared handle are seen by the very next lookup regardless (data_version is read with every lead);
   * this bounds how late a lookup notices a file renamed over the path, rewritten around SQLite, or — for an
   * immutable handle, which cannot see commits — a writer's commit. Refresh always checks.
   */
  fileCheckIntervalMs?: number;
  /** Builds the route index; should not throw (a throw is reported as `internal_error`, last good kept). */
  buildIndex: (rows: ReplicaRows) => TIndex;
  /** Routes in an index, for status and the emptied-table check; default: number of route rows it was built from. */
  countRoutes?: (index: TIndex) => number;
  /** Clock in epoch milliseconds. */
  now: () => number;
}

/** Codes a store fault carries: replica faults, `replica_unavailable` (not open), `internal_error` (index builder threw). */
export type ReplicaFaultCode = ReplicaErrorCode | Extract<CallErrorCode, 'replica_unavailable' | 'internal_error'>;

/** A fault as a value: a stable code for metrics/logs and a message naming the file and cause. */
export interface ReplicaFault {
  code: ReplicaFaultCode;
  message: string;
}

export type RefreshOutcome = 'unchanged' | 'reloaded' | 'reopened' | 'failed' | 'kept_last_good';

/** One watch-job tick: `result` is the label of `callrouter_replica_reloads_total{result}`. */
export interface RefreshResult {
  result: RefreshOutcome;
  error?: ReplicaFault;
}

export type LookupResult<TIndex> =
  | { ok: true; records: CallRecords; index: TIndex }
  | { ok: false; code: 'replica_unavailable'; message: string; cause: ReplicaFaultCode };

export interface ReplicaStatus {
  /** A handle is open (possibly on an unlinked or faulty file). */
  open: boolean;
  /** The last read through the handle succeeded. */
  readable: boolean;
  schemaVersion: number | null;
  fileExists: boolean;
  fileMtimeMs: number | null;
  /** Greatest updated_at over carriers/routes in the loaded data, as stored. */
  newestUpdatedAt: string | null;
  /** Epoch ms of the last check that found the replica valid and loaded; null before the first. */
  lastGoodAt: number | null;
  /** The current fault, null when the last check succeeded. */
  lastError: ReplicaFault | null;
  /** Routes in the serving index (0 without one). */
  routeCount: number;
  /** How the open handle reads (`immutable`: WAL file without -wal/-shm in a read-only directory); null when closed. */
  mode: ReplicaMode | null;
}

export interface ReplicaStore<TIndex> {
  /** Opens and loads the replica. @throws ReplicaError when unusable at start-up (or on a builder bug). */
  open(): void;
  /** The hot path: the call's rows plus the serving index, or `replica_unavailable`. Never throws. */
  lookup(campaignId: string, leadId: string): LookupResult<TIndex>;
  /** The watch-job body: picks up commits, replacement, deletion and faults. Never throws. */
  refresh(): RefreshResult;
  /** SIGHUP: opens the path afresh and accepts its data even with no routes. Never throws; keeps the last good on failure. */
  reopen(): RefreshResult;
  status(): ReplicaStatus;
  /** The serving index and the rows it was built from, or undefined before a successful load. */
  current(): { index: TIndex; rows: ReplicaRows } | undefined;
  close(): void;
}

interface Loaded {
  rows: ReplicaRows;
  fingerprint: string;
  dataVersion: number;
  newestUpdatedAt: string | null;
}

/**
 * Page cache of the store's handle, MiB. A 1M-lead replica's leads B-trees are ~67 MB; 48 MiB keeps the index
 * and most table pages (measured on that replica, interleaved runs: 24 MiB +3.9 µs per call, 48 and 96 MiB
 * alike, SQLite's default 2 MiB +4-5 µs). Costs up to this much RSS.
 */
export const DEFAULT_PAGE_CACHE_MB = 48;

/**
 * A stat costs ~2-3 µs, a tenth of a lookup — but at a dialer's rates (a few thousand calls a second) once per
 * millisecond is a stat for every call or two: 1-2% of the daemon's CPU per call at saturation (`npx tsx
 * scripts/bench-esl.ts --against DIR`, DIR the build with 1 ms: 0.976-0.990; README "Performance"). Every 10 ms costs a stat per ~20 calls at 2,000/s,
 * and no decision reads a replaced file more than ~10 ms after the rename.
 */
export const DEFAULT_FILE_CHECK_MS = 10;

/** Creates a store; nothing is opened until `open()`. */
export function createReplicaStore<TIndex>(opts: ReplicaStoreOptions<TIndex>): ReplicaStore<TIndex> {
  const { path, busyTimeoutMs, now } = opts;
  const pageCacheMb = opts.pageCacheMb ?? DEFAULT_PAGE_CACHE_MB;
  const fileCheckMs = opts.fileCheckIntervalMs ?? DEFAULT_FILE_CHECK_MS;
  let handle: ReplicaDb | undefined;
  let queries: ReplicaQueries | undefined;
  let serving: { index: TIndex; rows: ReplicaRows; fingerprint: string; routeCount: number } | undefined;
  let seenDataVersion = -1;
  let schemaVersion: number | null = null;
  let seenFile: string | undefined;
  let triedImmutable = false;
  let failedReplacement: string | undefined;
  let newestUpdatedAt: string | null = null;
  let lastGoodAt: number | null = null;
  let lastError: ReplicaFault | null = null;
  let readable = false;
  let closed = false;
  /** `now()` of the last look at the file (open, refresh, or a lookup's check). */
  let fileCheckedAt = Number.NEGATIVE_INFINITY;
  /** Set by {@link read}: its failure was a shared handle that lost its -wal/-shm. */
  let lostWalFiles = false;

  const fault = (err: unknown): ReplicaFault => {
    const e = toReplicaError(err, path, 'read');
    return { code: e.code, message: e.message };
  };
  const fail = (f: ReplicaFault, result: RefreshOutcome = 'failed'): RefreshResult => {
    lastError = f;
    return { result, error: f };
  };
  const good = (result: RefreshOutcome): RefreshResult => {
    lastError = null;
    readable = true;
    lastGoodAt = now();
    return { result };
  };

  function load(q: ReplicaQueries): Loaded {
    const dataVersion = q.dataVersion();
    // Seen even if the load fails: the hot path must not retry a broken load on every call (refresh retries).
    seenDataVersion = dataVersion;
    schemaVersion = q.schemaVersion();
    if (schemaVersion > SCHEMA_VERSION) {
      throw new ReplicaError(
        'replica_schema_newer',
        `replica ${path} has schema version ${schemaVersion}; this build understands up to ${SCHEMA_VERSION} (serving the last good index)`,
      );
    }
    if (schemaVersion < SCHEMA_VERSION) {
      throw new ReplicaError('replica_schema_invalid', `replica ${path} has schema version ${schemaVersion}, expected ${SCHEMA_VERSION}`);
    }
    const rows = { carriers: q.carriers(), routes: q.routes(), phoneNumbers: q.phoneNumbers() };
    const fingerprint = createHash('sha256').update(JSON.stringify(rows)).digest('hex');
    return { rows, fingerprint, dataVersion, newestUpdatedAt: q.newestUpdatedAt() };
  }

  /** Installs loaded rows (building the index when they changed). Returns the outcome for a same-file load. */
  function install(loaded: Loaded, acceptEmpty: boolean): RefreshResult {
    newestUpdatedAt = loaded.newestUpdatedAt;
    readable = true;
    if (serving !== undefined && loaded.fingerprint === serving.fingerprint) return good('unchanged');
    if (!acceptEmpty && loaded.rows.routes.length === 0 && serving !== undefined && serving.routeCount > 0) {
      return fail(
        {
          code: 'replica_routes_emptied',
          message: `replica ${path}: outbound_routes is empty; keeping the last good index (${serving.routeCount} routes) — send SIGHUP to accept`,
        },
        'kept_last_good',
      );
    }
    let index: TIndex;
    try {
      index = opts.buildIndex(loaded.rows);
    } catch (err) {
      return fail({ code: 'internal_error', message: `building the route index failed: ${err instanceof Error ? err.message : String(err)}` });
    }
    const routeCount = opts.countRoutes ? opts.countRoutes(index) : loaded.rows.routes.length;
    serving = { index, rows: loaded.rows, fingerprint: loaded.fingerprint, routeCount };
    return good('reloaded');
  }

  /** Reloads through the current handle. */
  function reload(): RefreshResult {
    if (queries === undefined) return fail({ code: 'replica_unavailable', message: `replica ${path} is not open` });
    let loaded: Loaded;
    try {
      loaded = load(queries);
    } catch (err) {
      if (needsWalFiles(err)) return switchTo(false);
      readable = false;
      return fail(fault(err));
    }
    return install(loaded, false);
  }

  /** Opens the path afresh; on success switches handles (closing the old one), on failure keeps everything. */
  function switchTo(acceptEmpty: boolean): RefreshResult {
    const st = statSync(path, { throwIfNoEntry: false });
    let next: ReplicaDb;
    let nextQueries: ReplicaQueries;
    let loaded: Loaded;
    try {
      next = openReplica(path, { busyTimeoutMs, pageCacheMb, openOn: sameFileHandle(st) });
    } catch (err) {
      failedReplacement = st ? fileKey(st) : undefined;
      return fail(fault(err));
    }
    try {
      nextQueries = createQueries(next.db);
      loaded = load(nextQueries);
    } catch (err) {
      next.close();
      failedReplacement = st ? fileKey(st) : undefined;
      return fail(fault(err));
    }
    handle?.close();
    handle = next;
    if (next.mode === 'immutable') triedImmutable = false;
    schemaVersion = next.schemaVersion;
    queries = nextQueries;
    seenFile = st ? fileKey(st) : undefined;
    failedReplacement = undefined;
    fileCheckedAt = now();
    const r = install(loaded, acceptEmpty);
    return r.result === 'unchanged' || r.result === 'reloaded' ? { result: 'reopened' } : r;
  }

  /**
   * The file changed without a commit we saw (a checkpoint, or bytes written around SQLite): a fresh
   * connection validates it. Returns the fault when it is unusable.
   */
  function probe(st: Stats): ReplicaFault | undefined {
    try {
      openReplica(path, { busyTimeoutMs, openOn: sameFileHandle(st) }).close();
      return undefined;
    } catch (err) {
      const f = fault(err);
      // Busy or missing say nothing about the content; only a corrupt or schema-less file condemns the handle.
      return f.code === 'replica_corrupt' || f.code === 'replica_schema_invalid' ? f : undefined;
    }
  }

  /**
   * The open handle's connection when it is a shared one reading the file `st` describes (same device and
   * inode). An immutable connection reports journal mode `delete` even for a WAL file, so it cannot answer.
   */
  function sameFileHandle(st: Stats | undefined): ReplicaDb['db'] | undefined {
    return st !== undefined && handle?.mode === 'shared' && st.ino === handle.file.ino && st.dev === handle.file.dev ? handle.db : undefined;
  }

  function replaced(st: Stats): boolean {
    return handle === undefined || st.ino !== handle.file.ino || st.dev !== handle.file.dev;
  }

  /** An immutable handle is stale once a writer committed (the -wal has frames) or the file changed under it. */
  function immutableStale(st: Stats): boolean {
    return handle?.mode === 'immutable' && (fileKey(st) !== seenFile || !walIsEmpty(path));
  }

  /** One lookup through the current handle, reloading first when another connection committed. */
  function read(campaignId: string, leadId: string): LookupResult<TIndex> {
    lostWalFiles = false;
    if (queries === undefined) return unavailable(lastError ?? { code: 'replica_unavailable', message: `replica ${path} is not open` });
    try {
      // One statement reads the records and data_version in the same read transaction (one read per call).
      const { dataVersion, records } = queries.versionedCallRecords(campaignId, leadId);
      readable = true;
      if (dataVersion !== seenDataVersion) {
        // Another connection committed: rebuild the index before answering (the records are already current).
        const r = reload();
        if (r.error?.code === 'replica_busy' || r.error?.code === 'replica_corrupt') return unavailable(r.error);
      }
      if (serving === undefined) return unavailable(lastError ?? { code: 'replica_unavailable', message: 'no route index has loaded' });
      return { ok: true, records, index: serving.index };
    } catch (err) {
      readable = false;
      lastError = fault(err);
      lostWalFiles = needsWalFiles(err);
      return unavailable(lastError);
    }
  }

  /** The hot path's look at the file: switches handles when it was replaced (or, immutable, changed). */
  function checkFile(): void {
    const st = statSync(path, { throwIfNoEntry: false });
    if (st !== undefined && (replaced(st) || immutableStale(st)) && fileKey(st) !== failedReplacement) switchTo(false);
  }

  return {
    open() {
      const r = switchTo(true);
      const e = r.error;
      if (e === undefined) return;
      if (e.code === 'internal_error' || e.code === 'replica_unavailable') throw new Error(e.message);
      throw new ReplicaError(e.code, e.message, { path });
    },

    lookup(campaignId, leadId) {
      // Correctness first: a decision must see every commit that happened before it, so every lookup reads
      // data_version with the lead and reloads synchronously on a change. A file replaced under the path is
      // looked for once per `fileCheckIntervalMs` (a stat is a tenth of a lookup). The watch job normally got
      // there first, making both checks no-ops.
      if (closed) return unavailable({ code: 'replica_unavailable', message: `replica ${path} is closed` });
      const t = now();
      // A clock that went back (a stepped wall clock) checks too rather than waiting for it to catch up.
      if (!(t - fileCheckedAt < fileCheckMs && t >= fileCheckedAt)) {
        fileCheckedAt = t;
        checkFile();
      }
      const first = read(campaignId, leadId);
      if (first.ok || !lostWalFiles) return first;
      // The shared handle lost its -wal/-shm (only if deleted by hand: a writer cannot while we are open).
      return switchTo(false).error === undefined ? read(campaignId, leadId) : first;
    },

    refresh() {
      if (closed) return fail({ code: 'replica_unavailable', message: `replica ${path} is closed` });
      fileCheckedAt = now();
      const st = statSync(path, { throwIfNoEntry: false });
      if (st === undefined) return fail({ code: 'replica_missing', message: `replica ${path} does not exist (serving the last good data)` });
      if (replaced(st)) return switchTo(false);
      const key = fileKey(st);
      const immutable = handle?.mode === 'immutable';
      if (key !== seenFile) {
        const bad = probe(st);
        if (bad !== undefined) {
          // Same inode, rewritten outside SQLite (data_version misses that) into something unusable: the
          // handle's page cache may still answer, but the file under it is gone, so stop serving from it.
          handle?.close();
          handle = undefined;
          queries = undefined;
          failedReplacement = key;
          readable = false;
          return fail(bad);
        }
        // An immutable handle cannot see what changed; switchTo records the key once it reads the new state.
        if (immutable) return switchTo(false);
        seenFile = key;
      }
      if (immutable && !walIsEmpty(path)) return switchTo(false);
      // Back to the fast immutable read once a writer emptied the -wal (TRUNCATE checkpoint). Tried once per
      // emptying, so without URI filenames (the reopen comes back shared) it does not reopen every tick.
      if (!immutable && handle !== undefined) {
        // The handle is on the path's current file (checked above), so it can say whether that file is WAL.
        if (!prefersImmutable(path, handle.db)) triedImmutable = false;
        else if (!triedImmutable) {
          triedImmutable = true;
          return switchTo(false);
        }
      }
      try {
        const changed = queries?.dataVersion() !== seenDataVersion || lastError !== null;
        return changed ? reload() : good('unchanged');
      } catch (err) {
        readable = false;
        return fail(fault(err));
      }
    },

    reopen: () => (closed ? fail({ code: 'replica_unavailable', message: `replica ${path} is closed` }) : switchTo(true)),

    status() {
      const st = statSync(path, { throwIfNoEntry: false });
      return {
        open: handle !== undefined,
        readable,
        schemaVersion,
        fileExists: st !== undefined,
        fileMtimeMs: st?.mtimeMs ?? null,
        newestUpdatedAt,
        lastGoodAt,
        lastError,
        routeCount: serving?.routeCount ?? 0,
        mode: handle?.mode ?? null,
      };
    },

    current: () => (serving === undefined ? undefined : { index: serving.index, rows: serving.rows }),

    close() {
      closed = true;
      handle?.close();
      handle = undefined;
      queries = undefined;
    },
  };
}

function unavailable(f: ReplicaFault): { ok: false; code: 'replica_unavailable'; message: string; cause: ReplicaFaultCode } {
  return { ok: false, code: 'replica_unavailable', message: f.message, cause: f.code };
}

/** Identity plus size/mtime: changes on replacement and on writes that bypass SQLite (data_version misses those). */
function fileKey(st: Stats): string {
  return `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}`;
}
