/**
 * `callrouter replica init --replica PATH`: creates the replica file, or migrates it to the schema version this
 * build writes. Idempotent. A file with a newer schema is refused and left untouched.
 *
 * Exit codes: 0 created, migrated or already current; 1 the file is newer or cannot be opened.
 */
import { CallrouterError } from '../errors.js';
import { migrateReplica } from '../replica/migrate.js';
import type { CliIo } from './io.js';

export interface ReplicaInitArgs {
  /** Replica file path; its directory must exist. */
  replica: string;
}

/** Runs `replica init` and returns the exit code. Never throws. */
export async function runReplicaInit(args: ReplicaInitArgs, io: CliIo): Promise<number> {
  try {
    const { from, to } = migrateReplica(args.replica);
    if (from === to) io.out(`replica ${args.replica}: already at schema version ${to}`);
    else io.out(`replica ${args.replica}: schema version ${from} -> ${to}`);
    return 0;
  } catch (err) {
    const code = err instanceof CallrouterError ? err.code : 'replica_open_failed';
    io.err(`replica init: ${code}: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
}
