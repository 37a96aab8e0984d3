/**
 * Creating and migrating replica files. This is the writer side of the schema contract (`replica init`, the
 * demo generator, test fixtures); the daemon itself never writes the replica.
 */
import Database from 'better-sqlite3';
import { ReplicaError } from '../errors.js';
import { MIGRATIONS, SCHEMA_VERSION } from './schema.js';

/** The versions a migration moved between; `from === to` when the file was already current. */
/** The error for a file whose schema is newer than this build (both `replica init` and the daemon's open). */
export function schemaNewerError(path: string, fileVersion: number): ReplicaError {
  return new ReplicaError(
    'replica_schema_newer',
    `replica ${path} has schema version ${fileVersion}; this build understands up to ${SCHEMA_VERSION} (upgrade callrouter)`,
    { path, fileVersion, supportedVersion: SCHEMA_VERSION },
  );
}

export interface MigrationResult {
  from: number;
  to: number;
}

/**
 * Brings an open read-write connection to SCHEMA_VERSION, one transaction per step so a crash mid-way leaves
 * a file at a consistent earlier version. Idempotent.
 *
 * @throws ReplicaError `replica_schema_newer` (naming both versions) when the file is newer than this build.
 */
export function migrateDb(db: Database.Database, path = db.name): MigrationResult {
  const from = readUserVersion(db);
  if (from > SCHEMA_VERSION) throw schemaNewerError(path, from);
  for (let v = from; v < SCHEMA_VERSION; v++) {
    const sql = MIGRATIONS[v];
    if (sql === undefined) throw new Error(`bug: no migration from schema version ${v}`);
    db.transaction(() => {
      db.exec(sql);
      // user_version takes no bound parameters; v + 1 is an integer we computed.
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
  return { from, to: Math.max(from, SCHEMA_VERSION) };
}

/** Reads `PRAGMA user_version` as a number (0 for a fresh file). */
export function readUserVersion(db: Database.Database): number {
  const v: unknown = db.pragma('user_version', { simple: true });
  return typeof v === 'number' ? v : Number(v);
}

/**
 * Creates `path` if absent (WAL mode) and migrates it to SCHEMA_VERSION. Idempotent.
 *
 * @throws ReplicaError `replica_schema_newer` for a file newer than this build; `replica_open_failed` when the
 * file cannot be opened or is not a SQLite database.
 */
export function migrateReplica(path: string): MigrationResult {
  let db: Database.Database;
  try {
    db = new Database(path);
  } catch (err) {
    throw openFailed(path, err);
  }
  try {
    try {
      db.pragma('journal_mode = WAL');
    } catch (err) {
      throw openFailed(path, err);
    }
    return migrateDb(db, path);
  } finally {
    db.close();
  }
}

function openFailed(path: string, err: unknown): ReplicaError {
  const reason = err instanceof Error ? err.message : String(err);
  return new ReplicaError('replica_open_failed', `cannot open replica ${path} for writing: ${reason}`, { path }, { cause: err });
}
