/**
 * `callrouter explain --replica FILE --campaign ID --lead ID [--tenant ID] [--json]`: the routing decision the
 * daemon would make for one call, from the same replica, index and `decide()` — with every route considered
 * and why it was used or skipped. Read-only; never dials.
 *
 * Exit codes: 0 the call would be routed, 1 the decision is an error (its code is printed), 2 usage or replica
 * problems.
 */
import { ConfigSchema, type Config } from '../config/schema.js';
import { CallrouterError, CARRIER_REJECT_REASONS, ROUTE_SKIP_REASONS } from '../errors.js';
import { openReplica, type ReplicaDb } from '../replica/database.js';
import { createQueries } from '../replica/queries.js';
import { decide, decideOptionsFromConfig } from '../routing/decide.js';
import { decisionToJson } from '../routing/explain-json.js';
import { buildRouteIndex } from '../routing/route-index.js';
import type { Decision } from '../routing/types.js';
import type { CliIo } from './io.js';
import { formatTable, printable } from './text-table.js';

export interface ExplainArgs {
  /** Replica file path. */
  replica: string;
  campaign: string;
  lead: string;
  /** The tenant the call claims (as `g2d_tenant_id` would); checked against the campaign's. */
  tenant?: string | undefined;
  json: boolean;
  /** Effective config (routing options, busy timeout); schema defaults when absent. */
  config?: Config | undefined;
}

/** Runs explain and returns the exit code (0 ok, 1 decision error, 2 usage/replica). Never throws. */
export async function runExplain(args: ExplainArgs, io: CliIo): Promise<number> {
  if (args.campaign === '' || args.lead === '') {
    io.err('explain: --campaign and --lead are required and must not be empty');
    return 2;
  }
  const config = args.config ?? ConfigSchema.parse({});
  let replica: ReplicaDb | undefined;
  let decision: Decision;
  try {
    replica = openReplica(args.replica, { busyTimeoutMs: config.replica.busy_timeout_ms });
    const queries = createQueries(replica.db);
    const index = buildRouteIndex({ carriers: queries.carriers(), routes: queries.routes(), phoneNumbers: queries.phoneNumbers() });
    decision = decide(
      { campaignId: args.campaign, leadId: args.lead, claimedTenantId: args.tenant },
      queries.callRecords(args.campaign, args.lead),
      index,
      { ...decideOptionsFromConfig(config), reportUnmatchable: true },
    );
  } catch (err) {
    const code = err instanceof CallrouterError ? err.code : 'replica_read_failed';
    io.err(`explain: ${code}: ${err instanceof Error ? err.message : String(err)}`);
    return 2;
  } finally {
    replica?.close();
  }
  if (args.json) io.out(JSON.stringify(decisionToJson(decision)));
  else for (const line of humanReport(decision)) io.out(line);
  return decision.ok ? 0 : 1;
}

/** The human-readable report of a decision. */
export function humanReport(d: Decision): string[] {
  const lines = [
    `campaign     ${printable(d.campaignId)}`,
    `lead         ${printable(d.leadId)}`,
    `tenant       ${printable(d.tenantId)}`,
    `destination  ${d.destination === null ? '-' : `+${d.destination}`}`,
    `caller ID    ${d.callerId === null ? '-' : `+${d.callerId}`}`,
    `attestation  ${d.attestation ?? '-'}`,
  ];
  if (d.forcedCarrier === null) lines.push(`forced       ${d.callerId === null ? '-' : 'none (no metadata.carrier_id)'}`);
  else {
    const { carrierId, outcome } = d.forcedCarrier;
    const why = outcome === 'used' ? 'used' : `not used: ${outcome} (${describe(outcome)}); fell back to routes`;
    lines.push(`forced       ${printable(carrierId)} — ${why}`);
  }
  lines.push(
    d.error === null
      ? `result       OK: ${d.candidates.length} candidate(s), first from ${d.source === 'forced' ? 'the forced carrier' : 'routes'}`
      : `result       ERROR ${d.error.code}: ${d.error.message}`,
  );
  if (d.candidates.length > 0) {
    lines.push('', 'candidates (tried in this order)');
    lines.push(...formatTable(
      ['#', 'carrier', 'route', 'number', 'caller ID', 'dial string'],
      d.candidates.map((c, i) => [String(i + 1), printable(c.carrierId), c.routeId === null ? '(forced)' : printable(c.routeId), c.number, c.callerId, c.dialString]),
    ));
  }
  if (d.skipped.length > 0) {
    lines.push('', 'routes skipped');
    lines.push(...formatTable(
      ['route', 'carrier', 'reason', 'why'],
      d.skipped.map((s) => [printable(s.routeId), printable(s.carrierId), s.reason, ROUTE_SKIP_REASONS[s.reason]]),
    ));
  }
  if (d.candidates.length === 0 && d.skipped.length === 0 && d.destination !== null) {
    lines.push('', 'no route of this tenant matches the destination');
  }
  return lines;
}

function describe(outcome: string): string {
  return (ROUTE_SKIP_REASONS as Record<string, string>)[outcome] ?? (CARRIER_REJECT_REASONS as Record<string, string>)[outcome] ?? outcome;
}
