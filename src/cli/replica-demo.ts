/**
 * `callrouter replica demo --replica PATH [--if-absent] [--leads N]`: writes the demo replica (three tenants,
 * platform and tenant carriers, prefix and regex routes, campaigns with and without a forced carrier,
 * thousands of leads). `npm start` runs it with `--if-absent` so a replica the user edited is kept.
 *
 * Exit codes: 0 written or kept; 1 it could not be written.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { writeDemoReplica } from '../replica/demo.js';
import type { CliIo } from './io.js';

export interface ReplicaDemoArgs {
  /** Replica file path; its parent directory is created. */
  replica: string;
  /** Keep an existing file instead of replacing it. */
  ifAbsent?: boolean;
  /** Number of leads (default 5000). */
  leads?: number;
  /** Clock for `updated_at` (epoch ms); default Date.now. */
  now?: () => number;
}

/** Runs `replica demo` and returns the exit code. Never throws. */
export async function runReplicaDemo(args: ReplicaDemoArgs, io: CliIo): Promise<number> {
  if (args.leads !== undefined && (!Number.isInteger(args.leads) || args.leads < 1)) {
    io.err(`replica demo: --leads must be a positive integer, got ${String(args.leads)}`);
    return 1;
  }
  if (args.ifAbsent === true && existsSync(args.replica)) {
    io.out(`replica ${args.replica} exists; kept it (--if-absent)`);
    return 0;
  }
  try {
    mkdirSync(dirname(args.replica), { recursive: true });
    const s = writeDemoReplica(args.replica, { leads: args.leads, now: args.now });
    io.out(
      `replica ${args.replica}: wrote demo data: ${s.tenants} tenants, ${s.carriers} carriers, ${s.routes} routes, ` +
        `${s.campaigns} campaigns, ${s.leadLists} lead lists, ${s.leads} leads`,
    );
    io.out('try: callrouter explain --replica ' + args.replica + ' --campaign camp-acme-forced --lead lead-acme-0001');
    return 0;
  } catch (err) {
    io.err(`replica demo: cannot write ${args.replica}: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
}
