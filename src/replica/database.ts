/**
 * Opening the replica read-only and checking it honours the schema contract. Never creates or writes a file.
 *
 * Read-only WAL, measured with better-sqlite3 12 / SQLite 3.51 as an unprivileged user:
 * - Opening succeeds even when nothing can be read; the first statement fails. So `openReplica` reads
 *   `user_version` at once to surface every problem at open time.
 * - When the `-wal`/`-shm` files exist (a writer holds the file open, crashed, or closed while another
 *   connection — callrouter's — was open) a read-only directory and a read-only `-shm` are fine: SQLite reads
 *   through its read-only shared-memory mode and sees every commit (`data_version` changes). This is `shared`.
 * - A WAL replica whose writer closed cleanly while nobody else had it open has no `-wal`/`-shm`. Reading it
 *   normally needs to CREATE them; in a directory callrouter cannot write (systemd `ReadOnlyPaths=`) the first
 *   read fails with SQLITE_READONLY_DIRECTORY. Without a `-wal` the main file holds every commit, so it is
 *   read as `immutable=1` (no locks, no shared memory, no files) — correct only while nobody writes: the
 *   store watches for a `-wal` appearing or the file changing and reopens (see store.ts).
 * - A read-only connection holds a SHARED lock on the file, so a writer that closes while callrouter is open
 *   cannot checkpoint or delete `-wal`/`-shm` (it needs an EXCLUSIVE lock): a `shared` handle stays usable.
 *   But with no live writer holding the `-shm`, read-only connections take SQLite's "unreliable shm" path and
 *   re-read pages on every transaction (~10x slower per lookup, measured). So when the directory is not
 *   writable, the file is in WAL mode and the `-wal` holds no frames (absent or emptied by
 *   `wal_checkpoint(TRUNCATE)`), the handle is `immutable` from the start.
 * - `immutable=1` is a URI parameter; better-sqlite3 is built with SQLITE_USE_URI=0 and enables URIs only
 *   when the environment has SQLITE_USE_URI=1 before its first connection (the systemd unit sets it).
 */
import { accessSync, closeSync, constants, existsSync, openSync, readSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { ReplicaError, type ReplicaErrorCode } from '../errors.js';
import { REQUIRED_COLUMNS, SCHEMA_VERSION } from './schema.js';
import { readUserVersion, schemaNewerError } from './migrate.js';

export interface OpenReplicaOptions {
  /** How long a statement waits for a writer's lock before failing with SQLITE_BUSY (blocks the event loop). */
  busyTimeoutMs: number;
  /**
   * Upper bound of this connection's page cache in MiB (`PRAGMA cache_size`); default SQLite's own (2 MiB).
   * Pages the cache misses are read with pread(2) from the OS page cache, so a cache holding the B-tree pages
   * a lookup descends saves those syscalls and copies. SQLite empties it whenever another connection commits.
   */
  pageCacheMb?: number | undefined;
  /**
   * A connection this process already has open on the SAME file: it says whether the file is WAL, so opening
   * does not read the header through a descriptor of its own (see {@link prefersImmutable}).
   */
  openOn?: Database.Database | undefined;
}

/** Identity of the file a handle reads: a writer that renames a new file over the path changes `ino`. */
export interface FileIdentity {
  dev: number;
  ino: number;
}

/**
 * How a handle reads: `shared` is a normal read-only connection that sees commits; `immutable` reads a
 * checkpointed WAL file without its -wal/-shm and never sees changes (the caller must watch the files).
 */
export type ReplicaMode = 'shared' | 'immutable';

export interface ReplicaDb {
  readonly path: string;
  readonly mode: ReplicaMode;
  /** The read-only connection. Only replica/ modules may prepare statements on it. */
  readonly db: Database.Database;
  readonly schemaVersion: number;
  /** The file this handle opened (stat of the path taken around the open). */
  readonly file: FileIdentity;
  close(): void;
}

/**
 * Opens `path` read-only (never creating it or any file beside it) and validates `user_version` and the
 * required tables/columns. Reads `immutable` when the directory is not writable, the file is in WAL mode and
 * `<path>-wal` holds no frames (see the module comment); otherwise `shared`.
 *
 * @throws ReplicaError `replica_missing` (no file), `replica_schema_newer`, `replica_schema_invalid` (names
 * what is missing; also a truncated, empty file), `replica_corrupt`, `replica_busy`, `replica_open_failed`.
 */
export function openReplica(path: string, opts: OpenReplicaOptions): ReplicaDb {
  // A writer may rename a new file over the path between our stat and SQLite's open(2); retry until the
  // stat before and after agree, so `file` names the inode the handle really reads.
  for (let attempt = 0; ; attempt++) {
    const before = statIdentity(path);
    if (before === undefined) {
      throw new ReplicaError('replica_missing', `replica ${path} does not exist`, { path });
    }
    const handle = openValidated(path, opts);
    const after = statIdentity(path);
    if (after !== undefined && after.dev === before.dev && after.ino === before.ino) {
      return { ...handle, file: after };
    }
    handle.close();
    if (attempt >= 3) {
      throw new ReplicaError('replica_open_failed', `replica ${path} kept being replaced while opening`, { path });
    }
  }
}

/** dev/ino of `path`, or undefined when it does not exist. */
export function statIdentity(path: string): FileIdentity | undefined {
  const s = statSync(path, { throwIfNoEntry: false });
  return s === undefined ? undefined : { dev: s.dev, ino: s.ino };
}

function openValidated(path: string, opts: OpenReplicaOptions): Omit<ReplicaDb, 'file'> {
  // Shared reads in a read-only directory with a -shm no live writer holds go through SQLite's "unreliable
  // shm" path, which re-reads pages on every transaction (measured ~10x slower per lookup). With no WAL frames
  // the main file is complete, so immutable is both correct and fast there.
  const immutableFirst = prefersImmutable(path, opts.openOn);
  if (immutableFirst) {
    try {
      return openAs(path, opts, 'immutable');
    } catch (err) {
      if (!uriDisabled(err, path)) throw toReplicaError(err, path, 'open');
    }
  }
  try {
    return openAs(path, opts, 'shared');
  } catch (err) {
    if (!needsWalFiles(err)) throw toReplicaError(err, path, 'open');
  }
  // A writer that opened the file since our read failed has created the files a shared read needs.
  if (existsSync(`${path}-wal`)) {
    try {
      return openAs(path, opts, 'shared');
    } catch (err) {
      throw toReplicaError(err, path, 'open');
    }
  }
  let cause: unknown;
  try {
    if (!immutableFirst) return openAs(path, opts, 'immutable');
  } catch (err) {
    if (!uriDisabled(err, path)) throw toReplicaError(err, path, 'open');
    cause = err;
  }
  throw new ReplicaError(
    'replica_open_failed',
    `replica ${path}: WAL replica without -wal/-shm in a directory callrouter cannot write; reading it immutable needs ` +
      'SQLite URI filenames: set SQLITE_USE_URI=1 in callrouter\'s environment (the systemd unit does), or let the sync job use journal_mode=DELETE',
    { path, sqliteCode: 'SQLITE_READONLY_DIRECTORY' },
    { cause },
  );
}

/**
 * Whether `path` should be read `immutable`: a WAL-mode file (header bytes 18-19 are 2) whose -wal holds no
 * frames (absent, or emptied by `wal_checkpoint(TRUNCATE)`), in a directory callrouter cannot write.
 * `openOn`: a connection this process already has open on that same file. Its journal mode answers instead of
 * reading the header through a descriptor of our own: closing ANY descriptor of a file releases every POSIX
 * lock this process holds on it — the connection's included (SQLite's own opens avoid that; ours would not).
 */
export function prefersImmutable(path: string, openOn?: Database.Database): boolean {
  if (!walIsEmpty(path) || directoryWritable(path)) return false;
  if (openOn === undefined) return isWalFile(path);
  try {
    return openOn.pragma('journal_mode', { simple: true }) === 'wal';
  } catch {
    return false;
  }
}

/** `<path>-wal` holds no frames: it is absent or empty (a writer that has not committed, or a TRUNCATE checkpoint). */
export function walIsEmpty(path: string): boolean {
  const s = statSync(`${path}-wal`, { throwIfNoEntry: false });
  return s === undefined || s.size === 0;
}

function directoryWritable(path: string): boolean {
  try {
    accessSync(dirname(resolve(path)), constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

function isWalFile(path: string): boolean {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const header = Buffer.alloc(20);
    return readSync(fd, header, 0, 20, 0) === 20 && header[18] === 2 && header[19] === 2;
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** With URIs off, SQLite looked for a file literally named "file:...?immutable=1" and found none. */
function uriDisabled(err: unknown, path: string): boolean {
  return sqliteCode(err) === 'SQLITE_CANTOPEN' && existsSync(path);
}

/** Opens and validates one connection; throws SQLite errors raw (the caller classifies them). */
function openAs(path: string, opts: OpenReplicaOptions, mode: ReplicaMode): Omit<ReplicaDb, 'file'> {
  const db = new Database(mode === 'shared' ? path : immutableUri(path), { readonly: true, fileMustExist: true });
  try {
    db.pragma(`busy_timeout = ${Math.max(0, Math.trunc(opts.busyTimeoutMs))}`);
    // Negative cache_size is in KiB.
    if (opts.pageCacheMb !== undefined) db.pragma(`cache_size = ${-Math.max(1, Math.trunc(opts.pageCacheMb * 1024))}`);
    const schemaVersion = validateSchema(db, path);
    return {
      path,
      mode,
      db,
      schemaVersion,
      close: () => {
        if (db.open) db.close();
      },
    };
  } catch (err) {
    db.close();
    throw err;
  }
}

/** The read failed because SQLite would have to create the -wal/-shm files of a WAL database. */
export function needsWalFiles(err: unknown): boolean {
  const code = sqliteCode(err);
  return code === 'SQLITE_READONLY_DIRECTORY' || code === 'SQLITE_READONLY_CANTINIT';
}

function sqliteCode(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : '';
}

/** `file:` URI of `path` with `immutable=1`; `%`, `?` and `#` in the path are escaped as URI syntax requires. */
export function immutableUri(path: string): string {
  const escaped = resolve(path).replace(/[%?#]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `file:${escaped}?immutable=1`;
}

/**
 * Checks `user_version` and the required tables/columns on an open connection; returns the version.
 * @throws ReplicaError `replica_schema_newer` or `replica_schema_invalid`.
 */
export function validateSchema(db: Database.Database, path: string): number {
  const version = readUserVersion(db);
  if (version > SCHEMA_VERSION) throw schemaNewerError(path, version);
  const columnsOf = db.prepare<[string], { name: string }>('SELECT name FROM pragma_table_info(?)');
  const missing: string[] = [];
  for (const [table, cols] of Object.entries(REQUIRED_COLUMNS)) {
    const have = new Set(columnsOf.all(table).map((r) => r.name));
    if (have.size === 0) missing.push(`table ${table}`);
    else for (const c of cols) if (!have.has(c)) missing.push(`${table}.${c}`);
  }
  if (version < SCHEMA_VERSION || missing.length > 0) {
    const what = [
      ...(version < SCHEMA_VERSION ? [`user_version is ${version}, expected ${SCHEMA_VERSION} (run callrouter replica init)`] : []),
      ...(missing.length > 0 ? [`missing ${missing.join(', ')}`] : []),
    ];
    throw new ReplicaError('replica_schema_invalid', `replica ${path} does not match the schema: ${what.join('; ')}`, {
      path, fileVersion: version, missing,
    });
  }
  return version;
}

/** Classifies a better-sqlite3 / fs error into a ReplicaError with a code an operator can act on. */
export function toReplicaError(err: unknown, path: string, during: 'open' | 'read'): ReplicaError {
  if (err instanceof ReplicaError) return err;
  const code = sqliteCode(err);
  const reason = err instanceof Error ? err.message : String(err);
  let ours: ReplicaErrorCode;
  let hint = '';
  if (code === 'ENOENT' || code === 'SQLITE_CANTOPEN') ours = during === 'open' ? 'replica_missing' : 'replica_read_failed';
  else if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) ours = 'replica_busy';
  else if (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB') ours = 'replica_corrupt';
  else if (code === 'SQLITE_READONLY_DIRECTORY' || code === 'SQLITE_READONLY_CANTINIT') {
    ours = 'replica_open_failed';
    hint = ' (a WAL replica with a -wal file needs its -shm too: have the writer create both, keep a writer connection open, or use journal_mode=DELETE)';
  } else if (code === 'SQLITE_ERROR' && /no such (table|column)/.test(reason)) ours = 'replica_schema_invalid';
  else ours = during === 'open' ? 'replica_open_failed' : 'replica_read_failed';
  return new ReplicaError(ours, `replica ${path}: ${reason}${hint}`, { path, sqliteCode: code || undefined }, { cause: err });
}
