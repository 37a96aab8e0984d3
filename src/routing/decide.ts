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
import { formatCallerId, toE164Digits, UNCACHED_NUMBERS, type NumberCache } from './numbers.js';
import type { RouteIndex } from './route-index.js';
import type { Config } from '../config/schema.js';
import type { CallInput, CallRecords, Candidate, Decision, ForcedCarrierResult } from './types.js';

/** Options of {@link decide}; `maxAttempts` and `forcedFailoverToRoutes` come from config `routing.*`. */
export interface DecideOptions {
  /** Most candidates returned (config `routing.max_attempts`, ≥ 1). */
  maxAttempts: number;
  /** When the forced carrier is used, let route candidates follow it (config `routing.forced_failover_to_routes`). */
  forcedFailoverToRoutes: boolean;
  /** Caller-ID parse memo; speeds decisions up without changing them. Default: no cache. */
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
  const fail = (code: CallErrorCode): Decision => {
    decision.error = { code, message: CALL_ERROR_CODES[code] };
    return decision;
  };

  if (campaign === undefined || campaign.id !== input.campaignId) return fail('campaign_not_found');
  const tenantId = campaign.tenantId;
  decision.tenantId = tenantId;
  decision.attestation = parseAttestation(campaign.stirShakenAttestation);
  if (lead === undefined || lead.id !== input.leadId) return fail('lead_not_found');
  if (leadList === undefined || leadList.id !== lead.leadListId) return fail('lead_list_not_found');
  const claimed = input.claimedTenantId;
  if (lead.tenantId !== tenantId || leadList.tenantId !== tenantId || (claimed !== undefined && claimed !== '' && claimed !== tenantId)) {
    return fail('tenant_mismatch');
  }

  const destination = toE164Digits(lead.primaryPhone);
  if (destination === null) return fail('invalid_destination');
  decision.destination = destination;
  const numbers = options.numbers ?? UNCACHED_NUMBERS;
  const callerId = numbers.e164(leadList.callerId);
  if (callerId === null) return fail('invalid_caller_id');
  decision.callerId = callerId;

  const { candidates, skipped } = decision;
  const build = (carrier: UsableCarrier, routeId: string | null, routeRules: NumberRules | null) =>
    buildCandidate(carrier, routeId, routeRules, destination, callerId, numbers);

  decision.forcedCarrier = forcedCarrier(campaign.metadata, tenantId, index, build, candidates);
  const forcedUsed = decision.forcedCarrier?.outcome === 'used';

  if (!forcedUsed || options.forcedFailoverToRoutes) {
    const chosen = new Set<string>(candidates.map((c) => c.carrierId));
    for (const route of index.matchingRoutes(tenantId, destination)) {
      const skip = (reason: RouteSkipReason) => skipped.push({ routeId: route.row.id, carrierId: route.row.carrierId, reason });
      if (route.rules === undefined) skip('route_invalid');
      else if (route.carrier === null) skip(route.carrierReason ?? 'carrier_not_found');
      else if (chosen.has(route.carrier.row.id)) skip('duplicate_carrier');
      else if (candidates.length >= options.maxAttempts) skip('max_attempts');
      else {
        const built = build(route.carrier, route.row.id, route.rules);
        if (typeof built === 'string') skip(built);
        else {
          candidates.push(built);
          chosen.add(built.carrierId);
        }
      }
    }
    if (options.reportUnmatchable === true) skipped.push(...index.unmatchableRoutes(tenantId));
  }

  if (candidates.length === 0) return fail('no_route');
  decision.ok = true;
  decision.source = forcedUsed ? 'forced' : 'route';
  return decision;
}

type Build = (carrier: UsableCarrier, routeId: string | null, routeRules: NumberRules | null) => Candidate | SkipOfBuild;
type SkipOfBuild = 'invalid_number' | 'invalid_caller_id_format';

function forcedCarrier(
  metadata: string | null,
  tenantId: string,
  index: RouteIndex,
  build: Build,
  candidates: Candidate[],
): ForcedCarrierResult | null {
  const ref = readForcedCarrier(metadata);
  if (ref.kind === 'none') return null;
  if (ref.kind === 'invalid') return { carrierId: null, outcome: 'metadata_invalid' };
  const profile = index.carrier(ref.carrierId);
  const reason = carrierRejectReason(profile, tenantId);
  if (reason !== null || profile?.ok !== true) return { carrierId: ref.carrierId, outcome: reason ?? 'carrier_not_found' };
  const built = build(profile.carrier, null, null);
  if (typeof built === 'string') return { carrierId: ref.carrierId, outcome: built };
  candidates.push(built);
  return { carrierId: ref.carrierId, outcome: 'used' };
}

function buildCandidate(
  carrier: UsableCarrier,
  routeId: string | null,
  routeRules: NumberRules | null,
  destination: string,
  callerIdDigits: string,
  numbers: NumberCache,
): Candidate | SkipOfBuild {
  const number = dialedNumber(destination, routeRules, carrier.rules);
  if (!isDialNumber(number)) return 'invalid_number';
  const callerId = formatCallerId(callerIdDigits, carrier.callerIdFormat, numbers);
  if (callerId === null || !isDialNumber(callerId)) return 'invalid_caller_id_format';
  const carrierName = carrier.row.name;
  return { carrierId: carrier.row.id, carrierName, routeId, number, callerId, dialString: dialString(carrierName, number) };
}

/** `stir_shaken_attestation`: exactly `A`, `B` or `C`; anything else (NULL, junk) carries no level. */
function parseAttestation(raw: string | null): Attestation {
  return raw === 'A' || raw === 'B' || raw === 'C' ? raw : null;
}
