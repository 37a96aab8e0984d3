/**
 * Opening the replica read-only and checking it honours the schema contract.
 *
 * Read-only WAL, measured with better-sqlite3 12 / SQLite 3.51 as a non-root user:
 * - Opening succeeds even when nothing can be read; the first statement fails. So `openReplica` reads
 *   `user_version` at once to surface every problem at open time.
 * - A WAL replica whose `-wal`/`-shm` files are absent (the writer closed cleanly, which deletes them) needs
 *   to CREATE them. If callrouter may write the directory it does (owned by its user, with the db file's
 *   mode); if not (systemd `ReadOnlyPaths=`, a 0555 directory) the first read fails with
 *   SQLITE_READONLY_DIRECTORY ("attempt to write a readonly database").
 * - When the `-wal`/`-shm` files exist (a writer holds the file open, or crashed) a read-only directory and
 *   read-only `-shm` are fine: SQLite falls back to its read-only shared-memory mode.
 * So: either give callrouter write access to the replica directory (`ReadWritePaths=`), keep a writer
 * connection open, or have the sync job use `journal_mode=DELETE`. The error message says so.
 */
import { statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { ReplicaError, type ReplicaErrorCode } from '../errors.js';
import { REQUIRED_COLUMNS, SCHEMA_VERSION } from './schema.js';
import { readUserVersion } from './migrate.js';

export interface OpenReplicaOptions {
  /** How long a statement waits for a writer's lock before failing with SQLITE_BUSY (blocks the event loop). */
  busyTimeoutMs: number;
}

/** Identity of the file a handle reads: a writer that renames a new file over the path changes `ino`. */
export interface FileIdentity {
  dev: number;
  ino: number;
}

export interface ReplicaDb {
  readonly path: string;
  /** The read-only connection. Only replica/ modules may prepare statements on it. */
  readonly db: Database.Database;
  readonly schemaVersion: number;
  /** The file this handle opened (stat of the path taken around the open). */
  readonly file: FileIdentity;
  close(): void;
}

/**
 * Opens `path` read-only (never creating it) and validates `user_version` and the required tables/columns.
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
  let db: Database.Database;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
  } catch (err) {
    throw toReplicaError(err, path, 'open');
  }
  try {
    db.pragma(`busy_timeout = ${Math.max(0, Math.trunc(opts.busyTimeoutMs))}`);
    const schemaVersion = validateSchema(db, path);
    return {
      path,
      db,
      schemaVersion,
      close: () => {
        if (db.open) db.close();
      },
    };
  } catch (err) {
    db.close();
    throw err instanceof ReplicaError ? err : toReplicaError(err, path, 'open');
  }
}

/**
 * Checks `user_version` and the required tables/columns on an open connection; returns the version.
 * @throws ReplicaError `replica_schema_newer` or `replica_schema_invalid`.
 */
export function validateSchema(db: Database.Database, path: string): number {
  const version = readUserVersion(db);
  if (version > SCHEMA_VERSION) {
    throw new ReplicaError(
      'replica_schema_newer',
      `replica ${path} has schema version ${version}; this build understands up to ${SCHEMA_VERSION} (upgrade callrouter)`,
      { path, fileVersion: version, supportedVersion: SCHEMA_VERSION },
    );
  }
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
  const code = typeof (err as { code?: unknown })?.code === 'string' ? (err as { code: string }).code : '';
  const reason = err instanceof Error ? err.message : String(err);
  let ours: ReplicaErrorCode;
  let hint = '';
  if (code === 'ENOENT' || code === 'SQLITE_CANTOPEN') ours = during === 'open' ? 'replica_missing' : 'replica_read_failed';
  else if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) ours = 'replica_busy';
  else if (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB') ours = 'replica_corrupt';
  else if (code === 'SQLITE_READONLY_DIRECTORY' || code === 'SQLITE_READONLY_CANTINIT') {
    ours = 'replica_open_failed';
    hint = ' (a WAL replica needs its -wal/-shm files: let callrouter write the directory, keep a writer connection open, or use journal_mode=DELETE)';
  } else if (code === 'SQLITE_ERROR' && /no such (table|column)/.test(reason)) ours = 'replica_schema_invalid';
  else ours = during === 'open' ? 'replica_open_failed' : 'replica_read_failed';
  return new ReplicaError(ours, `replica ${path}: ${reason}${hint}`, { path, sqliteCode: code || undefined }, { cause: err });
}
