/**
 * The routing decision for one call: a pure function of the call's IDs, its replica rows and the route index.
 * No I/O, clock or logging — the ESL call handler, `callrouter explain` and the benchmark all call exactly this.
 *
 * Order of checks (first failure wins): campaign, lead, lead list exist (`*_not_found`); all one tenant and the
 * tenant the call claims (`tenant_mismatch`); destination (`invalid_destination`); caller ID
 * (`invalid_caller_id`); then the forced carrier, then routes; nothing usable is `no_route`. Error messages are
 * the fixed texts of src/errors.ts: a decision never copies replica text into a message.
 */
import { CALL_ERROR_CODES, type CallErrorCode, type RouteSkipReason } from '../errors.js';
import { carrierRejectReason, type UsableCarrier } from './eligibility.js';
import { dialString, isDialNumber } from './dial-values.js';
import { readForcedCarrier } from './forced-carrier.js';
import { dialedNumber, type NumberRules } from './number-rules.js';
import { formatCallerId, UNCACHED_NUMBERS, type NumberCache } from './numbers.js';
import type { RouteIndex } from './route-index.js';
import type { Config } from '../config/schema.js';
import type { CallInput, CallRecords, Candidate, Decision, ForcedCarrierResult } from './types.js';

/** Options of {@link decide}; `maxAttempts` and `forcedFailoverToRoutes` come from config `routing.*`. */
export interface DecideOptions {
  /** Most candidates returned (config `routing.max_attempts`, ≥ 1). */
  maxAttempts: number;
  /** When the forced carrier is used, let route candidates follow it (config `routing.forced_failover_to_routes`). */
  forcedFailoverToRoutes: boolean;
  /** Number parsing (caller-ID memo, compiled patterns); speeds decisions up without changing them. Default: none. */
  numbers?: NumberCache | undefined;
  /**
   * Also list the tenant's routes that can never match (bad row, invalid or unsafe regex) in `skipped`, after
   * the routes considered for this number. For explain; off on the call path to keep decisions O(matches).
   */
  reportUnmatchable?: boolean | undefined;
}

type Attestation = Decision['attestation'];

/** The config-derived part of {@link DecideOptions}. */
export function decideOptionsFromConfig(config: Config): DecideOptions {
  return { maxAttempts: config.routing.max_attempts, forcedFailoverToRoutes: config.routing.forced_failover_to_routes };
}

/** Decides one call. Never throws for any row content; see the module comment for the order of checks. */
export function decide(input: CallInput, records: CallRecords, index: RouteIndex, options: DecideOptions): Decision {
  // Written without per-call closures: this runs per call, and closures cost allocations (and, under tsx,
  // a defineProperty each) for nothing.
  const { campaign, lead, leadList } = records;
  const decision: Decision = {
    ok: false,
    error: null,
    tenantId: null,
    campaignId: input.campaignId,
    leadId: input.leadId,
    destination: null,
    callerId: null,
    attestation: null,
    forcedCarrier: null,
    source: null,
    candidates: [],
    skipped: [],
  };

  if (campaign === undefined || campaign.id !== input.campaignId) return failed(decision, 'campaign_not_found');
  const tenantId = campaign.tenantId;
  decision.tenantId = tenantId;
  decision.attestation = parseAttestation(campaign.stirShakenAttestation);
  if (lead === undefined || lead.id !== input.leadId) return failed(decision, 'lead_not_found');
  if (leadList === undefined || leadList.id !== lead.leadListId) return failed(decision, 'lead_list_not_found');
  const claimed = input.claimedTenantId;
  if (lead.tenantId !== tenantId || leadList.tenantId !== tenantId || (claimed !== undefined && claimed !== '' && claimed !== tenantId)) {
    return failed(decision, 'tenant_mismatch');
  }

  const numbers = options.numbers ?? UNCACHED_NUMBERS;
  const destination = numbers.destination(lead.primaryPhone);
  if (destination === null) return failed(decision, 'invalid_destination');
  decision.destination = destination;
  const callerId = numbers.e164(leadList.callerId);
  if (callerId === null) return failed(decision, 'invalid_caller_id');
  decision.callerId = callerId;

  const call: CallValues = { destination, callerId, numbers };
  decision.forcedCarrier = forcedCarrier(campaign.metadata, tenantId, index, call, decision.candidates);
  const forcedUsed = decision.forcedCarrier?.outcome === 'used';
  if (!forcedUsed || options.forcedFailoverToRoutes) addRouteCandidates(decision, tenantId, index, call, options);

  if (decision.candidates.length === 0) return failed(decision, 'no_route');
  decision.ok = true;
  decision.source = forcedUsed ? 'forced' : 'route';
  return decision;
}

/** The per-call values every candidate is built from. */
interface CallValues {
  destination: string;
  callerId: string;
  numbers: NumberCache;
}

type BuildSkip = 'invalid_number' | 'invalid_caller_id_format';

function failed(decision: Decision, code: CallErrorCode): Decision {
  decision.error = { code, message: CALL_ERROR_CODES[code] };
  return decision;
}

function addRouteCandidates(decision: Decision, tenantId: string, index: RouteIndex, call: CallValues, options: DecideOptions): void {
  const { candidates, skipped } = decision;
  for (const route of index.matchingRoutes(tenantId, call.destination)) {
    let reason: RouteSkipReason | null = null;
    if (route.rules === undefined) reason = 'route_invalid';
    else if (route.carrier === null) reason = route.carrierReason ?? 'carrier_not_found';
    else if (hasCarrier(candidates, route.carrier.row.id)) reason = 'duplicate_carrier';
    else if (candidates.length >= options.maxAttempts) reason = 'max_attempts';
    else {
      const built = buildCandidate(route.carrier, route.row.id, route.rules, call);
      if (typeof built === 'string') reason = built;
      else candidates.push(built);
    }
    if (reason !== null) skipped.push({ routeId: route.row.id, carrierId: route.row.carrierId, reason });
  }
  if (options.reportUnmatchable === true) skipped.push(...index.unmatchableRoutes(tenantId));
}

/** Linear: a decision holds at most `routing.max_attempts` (≤ 10) candidates. */
function hasCarrier(candidates: readonly Candidate[], carrierId: string): boolean {
  for (const c of candidates) if (c.carrierId === carrierId) return true;
  return false;
}

function forcedCarrier(
  metadata: string | null,
  tenantId: string,
  index: RouteIndex,
  call: CallValues,
  candidates: Candidate[],
): ForcedCarrierResult | null {
  const ref = readForcedCarrier(metadata);
  if (ref.kind === 'none') return null;
  if (ref.kind === 'invalid') return { carrierId: null, outcome: 'metadata_invalid' };
  const profile = index.carrier(ref.carrierId);
  const reason = carrierRejectReason(profile, tenantId);
  if (reason !== null || profile?.ok !== true) return { carrierId: ref.carrierId, outcome: reason ?? 'carrier_not_found' };
  const built = buildCandidate(profile.carrier, null, null, call);
  if (typeof built === 'string') return { carrierId: ref.carrierId, outcome: built };
  candidates.push(built);
  return { carrierId: ref.carrierId, outcome: 'used' };
}

function buildCandidate(carrier: UsableCarrier, routeId: string | null, routeRules: NumberRules | null, call: CallValues): Candidate | BuildSkip {
  const number = dialedNumber(call.destination, routeRules, carrier.rules);
  if (!isDialNumber(number)) return 'invalid_number';
  const callerId = formatCallerId(call.callerId, carrier.callerIdFormat, call.numbers);
  if (callerId === null || !isDialNumber(callerId)) return 'invalid_caller_id_format';
  const carrierName = carrier.row.name;
  return { carrierId: carrier.row.id, carrierName, routeId, number, callerId, dialString: dialString(carrierName, number) };
}

/** `stir_shaken_attestation`: exactly `A`, `B` or `C`; anything else (NULL, junk) carries no level. */
function parseAttestation(raw: string | null): Attestation {
  return raw === 'A' || raw === 'B' || raw === 'C' ? raw : null;
}
