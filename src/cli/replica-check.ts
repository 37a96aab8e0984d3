/**
 * `callrouter replica check --replica FILE [--json]`: the integrity report of src/replica/check.ts.
 * Exit 0 when there are no error findings (warnings allowed), 1 when there are, 2 when the replica cannot be
 * opened or read. `--json` prints `{ok, errors, warnings, findings, omitted}` on one line.
 */
import { CallrouterError } from '../errors.js';
import { checkReplica, type CheckReport, type Finding } from '../replica/check.js';
import { openReplica, type ReplicaDb } from '../replica/database.js';
import type { CliIo } from './io.js';
import { formatTable, printable } from './text-table.js';

export interface ReplicaCheckArgs {
  replica: string;
  json: boolean;
  /** Wait for a writer's lock this long before a read fails (config `replica.busy_timeout_ms`). */
  busyTimeoutMs?: number | undefined;
}

/** Findings of one code shown in the human report; the rest are counted. */
const HUMAN_PER_CODE = 20;

/** Runs the check and returns the exit code (0 clean or warnings only, 1 errors, 2 unreadable). Never throws. */
export async function runReplicaCheck(args: ReplicaCheckArgs, io: CliIo): Promise<number> {
  let replica: ReplicaDb | undefined;
  let report: CheckReport;
  try {
    replica = openReplica(args.replica, { busyTimeoutMs: args.busyTimeoutMs ?? 200 });
    report = checkReplica(replica.db);
  } catch (err) {
    const code = err instanceof CallrouterError ? err.code : 'replica_read_failed';
    io.err(`replica check: ${code}: ${err instanceof Error ? err.message : String(err)}`);
    return 2;
  } finally {
    replica?.close();
  }
  if (args.json) io.out(JSON.stringify(report));
  else for (const line of humanReport(report)) io.out(line);
  return report.ok ? 0 : 1;
}

/** The readable report: a summary line, then findings grouped by code (at most {@link HUMAN_PER_CODE} each). */
export function humanReport(report: CheckReport): string[] {
  const lines = [`${report.ok ? 'OK' : 'FAILED'}: ${report.errors} error(s), ${report.warnings} warning(s)`];
  const byCode = new Map<string, Finding[]>();
  for (const f of report.findings) {
    const list = byCode.get(f.code);
    if (list === undefined) byCode.set(f.code, [f]);
    else list.push(f);
  }
  const rows: string[][] = [];
  let hidden = report.omitted;
  for (const findings of byCode.values()) {
    for (const f of findings.slice(0, HUMAN_PER_CODE)) {
      rows.push([f.severity, f.table, printable(f.row_id, 40), f.column, f.code, f.message]);
    }
    hidden += Math.max(0, findings.length - HUMAN_PER_CODE);
  }
  if (rows.length > 0) lines.push('', ...formatTable(['severity', 'table', 'row', 'column', 'code', 'message'], rows));
  if (hidden > 0) lines.push('', `${hidden} more finding(s) not shown (at most ${HUMAN_PER_CODE} per code here; --json lists more)`);
  return lines;
}
