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
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { identityForCandidate } from '../identity/candidate-identity.js';
import { explainIdentity, type IdentityExplain } from '../identity/explain.js';
import { loadSigningKeys, type SigningKeys } from '../identity/keys.js';
import { callPlanOptionsFromConfig, planCall, type CallPlan } from '../routing/call-plan.js';
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
  let plan: CallPlan;
  let keys: SigningKeys;
  try {
    keys = loadSigningKeys(config.identity, (p) => readFileSync(p));
    replica = openReplica(args.replica, { busyTimeoutMs: config.replica.busy_timeout_ms });
    const queries = createQueries(replica.db);
    const index = buildRouteIndex({ carriers: queries.carriers(), routes: queries.routes(), phoneNumbers: queries.phoneNumbers() });
    const options = callPlanOptionsFromConfig(config);
    plan = planCall(
      { campaignId: args.campaign, leadId: args.lead, claimedTenantId: args.tenant },
      queries.callRecords(args.campaign, args.lead),
      index,
      { ...options, decide: { ...options.decide, reportUnmatchable: true } },
    );
  } catch (err) {
    const code = err instanceof CallrouterError ? err.code : 'replica_read_failed';
    io.err(`explain: ${code}: ${err instanceof Error ? err.message : String(err)}`);
    return 2;
  } finally {
    replica?.close();
  }
  const decision = plan.decision;
  const identities = explainIdentities(plan, keys);
  if (args.json) io.out(JSON.stringify(decisionToJson(decision, identities)));
  else for (const line of humanReport(decision, identities)) io.out(line);
  return decision.ok ? 0 : 1;
}

/**
 * What each candidate's leg would carry for STIR/SHAKEN, exactly as the call path builds it — in passport mode
 * a PASSporT is really signed (now, a fresh origid) with the configured key and shown decoded.
 */
function explainIdentities(plan: CallPlan, keys: SigningKeys): Map<string, IdentityExplain> {
  const out = new Map<string, IdentityExplain>();
  const { decision } = plan;
  if (decision.destination === null || decision.callerId === null) return out;
  const origid = randomUUID();
  for (const pc of plan.candidates) {
    const r = identityForCandidate({
      plan: pc.identity,
      keys,
      tenantId: decision.tenantId,
      origTn: decision.callerId,
      destTn: decision.destination,
      nowMs: Date.now(),
      origid,
    });
    out.set(pc.candidate.carrierId, r.ok ? explainIdentity(r.plan, r.passport) : explainIdentity(r.plan, null, { code: r.code, message: r.message }));
  }
  return out;
}

/** The human-readable report of a decision. */
export function humanReport(d: Decision, identities: ReadonlyMap<string, IdentityExplain> = new Map()): string[] {
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
    const withIdentity = d.candidates.filter((c) => identities.has(c.carrierId));
    if (withIdentity.length > 0) {
      lines.push('', 'STIR/SHAKEN per carrier leg');
      lines.push(...formatTable(
        ['#', 'carrier', 'mode', 'level', 'header', 'notes'],
        withIdentity.map((c) => {
          const id = identities.get(c.carrierId)!;
          const level = id.level === null ? '-' : id.downgraded ? `${id.level} (downgraded from ${id.requested_level}: caller ID not a tenant number)` : id.level;
          const notes = [
            ...(id.error ? [`${id.error.code}: ${id.error.message}`] : []),
            ...id.problems.map((p) => `${p.field} ${p.code}, using ${p.fallback}`),
            ...(id.header === null && id.level !== null ? ['nothing sent'] : []),
          ];
          return [String(d.candidates.indexOf(c) + 1), printable(c.carrierId), id.mode, level, id.header ?? '-', printable(notes.join('; ')) || '-'];
        }),
      ));
      for (const c of withIdentity) {
        const pp = identities.get(c.carrierId)!.passport;
        if (pp !== null) lines.push(`PASSporT for ${printable(c.carrierId)}: header ${JSON.stringify(pp.header)} claims ${JSON.stringify(pp.claims)} info ${pp.info ?? '-'}`);
      }
    }
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
