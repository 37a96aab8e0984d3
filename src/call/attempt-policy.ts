/**
 * One bridge attempt's result, read from what FreeSWITCH reports on the A-leg, and whether to try the next
 * carrier. Pure.
 *
 * After each bridge, the bridge's CHANNEL_EXECUTE_COMPLETE carries (NOTES §5, transcripts 4d_*):
 * `variable_originate_disposition` — this bridge's cause name (`SUCCESS` / `call accepted` when answered);
 * `variable_sip_invite_failure_status` — the carrier's final SIP status; `variable_last_bridge_proto_specific_hangup_cause`
 * — e.g. `sip:503`; `variable_originate_failed_cause`. The last one keeps an OLD value after a later success
 * (NOTES §9), so it is only a fallback when the disposition is absent. The SIP variables are also sticky across
 * attempts on the real switch; the session unsets them before each further attempt so that what is read here
 * belongs to this attempt.
 */
import { classifyAttempt, type AttemptResult } from '../observability/attempt-result.js';

/** What one bridge attempt did. */
export interface AttemptRecord {
  /** 1-based position among the call's attempts. */
  attempt: number;
  carrierId: string;
  carrierName: string;
  routeId: string | null;
  /** The carrier's final SIP status (100–699), or null when none was reported. */
  sipStatus: number | null;
  /** FreeSWITCH cause name of the attempt (`USER_BUSY`, `NORMAL_TEMPORARY_FAILURE`, `SUCCESS`...), or null. */
  cause: string | null;
  /** Bounded result class (`classifyAttempt`): the `result` label of callrouter_bridge_attempts_total. */
  result: AttemptResult;
  /** The carrier leg was answered (CHANNEL_BRIDGE seen, or disposition SUCCESS). */
  answered: boolean;
  /** Bridge sent → the attempt's end (bridge completed, answered, or the session gave up waiting), ms. */
  durationMs: number;
  /** Bridge sent → answer, ms (answered attempts only). */
  answerDelayMs: number | null;
}

/** Who the attempt was for and when it started/ended (the session knows; the event does not). */
export interface AttemptContext {
  attempt: number;
  carrierId: string;
  carrierName: string;
  routeId: string | null;
  durationMs: number;
  answered?: boolean;
  answerDelayMs?: number | null;
}

const CAUSE_RE = /^[A-Za-z][A-Za-z0-9_ ]{0,63}$/;
const PROTO_SIP_RE = /^sip:([1-6][0-9]{2})$/;

/** A cause name as FreeSWITCH reports it, or null when absent, `_undef_`-like or not a short token. */
function causeOf(value: string | undefined): string | null {
  if (value === undefined) return null;
  const v = value.trim();
  if (v === '' || v === '_undef_' || !CAUSE_RE.test(v)) return null;
  return v;
}

function sipStatusOf(failureStatus: string | undefined, protoCause: string | undefined): number | null {
  if (failureStatus !== undefined && /^[1-6][0-9]{2}$/.test(failureStatus.trim())) return Number(failureStatus.trim());
  const m = protoCause === undefined ? null : PROTO_SIP_RE.exec(protoCause.trim());
  return m ? Number(m[1]) : null;
}

/**
 * The 2xx an answered attempt got, from its bridge's completion (`sip:200` replaces an earlier attempt's `sip:503`
 * only when the bridge ends, 4d_03); null when absent or not a 2xx.
 */
export function answerSipStatus(headers: ReadonlyMap<string, string> | undefined): number | null {
  const protoCause = headers?.get('variable_last_bridge_proto_specific_hangup_cause');
  const m = protoCause === undefined ? null : PROTO_SIP_RE.exec(protoCause.trim());
  const status = m ? Number(m[1]) : null;
  return status !== null && status >= 200 && status < 300 ? status : null;
}

/**
 * Reads the attempt from the bridge's CHANNEL_EXECUTE_COMPLETE headers (`variables` = the event's headers,
 * `variable_*` names as sent). With `headers` undefined (the session gave up waiting, or the caller hung up
 * and no completion came) the attempt is built from `fallbackCause` alone. Never throws.
 */
export function readAttempt(
  headers: ReadonlyMap<string, string> | undefined,
  ctx: AttemptContext,
  fallbackCause: string | null = null,
): AttemptRecord {
  const disposition = causeOf(headers?.get('variable_originate_disposition'));
  const failed = causeOf(headers?.get('variable_originate_failed_cause'));
  const answered = ctx.answered === true || disposition === 'SUCCESS' || disposition === 'call accepted';
  // A stale sip_invite_failure_status must not turn an answered attempt into a failure.
  const sipStatus = answered
    ? answerSipStatus(headers)
    : sipStatusOf(headers?.get('variable_sip_invite_failure_status'), headers?.get('variable_last_bridge_proto_specific_hangup_cause'));
  const cause = answered ? (disposition ?? 'SUCCESS') : (disposition ?? failed ?? fallbackCause);
  const result = classifyAttempt({ answered, cause: cause ?? undefined, sipStatus: sipStatus ?? undefined });
  return {
    attempt: ctx.attempt,
    carrierId: ctx.carrierId,
    carrierName: ctx.carrierName,
    routeId: ctx.routeId,
    sipStatus,
    cause,
    result,
    answered,
    durationMs: ctx.durationMs,
    answerDelayMs: answered ? (ctx.answerDelayMs ?? null) : null,
  };
}

/** `routing.failover_causes` / `routing.no_failover_causes`. Entries: cause name, `sip:NNN` or `sip:Nxx`. */
export interface FailoverPolicy {
  failoverCauses: readonly string[];
  noFailoverCauses: readonly string[];
}

export function failoverPolicyFromConfig(routing: { failover_causes: readonly string[]; no_failover_causes: readonly string[] }): FailoverPolicy {
  return { failoverCauses: routing.failover_causes, noFailoverCauses: routing.no_failover_causes };
}

export type FailoverVerdict =
  | { failover: true; reason: 'failover_cause'; matched: string }
  | { failover: false; reason: 'answered' | 'caller_hangup' | 'no_failover_cause' | 'not_listed'; matched: string | null };

/**
 * True when `entry` matches the attempt. A SIP 487 never matches a `sip:` entry: it is the carrier's answer to
 * OUR CANCEL (after a ring or progress timeout, or the caller hanging up), so the cause name says more.
 */
export function entryMatches(entry: string, attempt: Pick<AttemptRecord, 'sipStatus' | 'cause'>): boolean {
  if (entry.startsWith('sip:')) {
    const status = attempt.sipStatus;
    if (status === null || status === 487) return false;
    const code = entry.slice(4);
    if (/^[1-6]xx$/.test(code)) return Math.floor(status / 100) === Number(code[0]);
    return String(status) === code;
  }
  return attempt.cause !== null && attempt.cause === entry;
}

/**
 * Whether to try the next carrier after `attempt`. Never after an answer or after the caller hung up. Then
 * `noFailoverCauses` is checked FIRST (callee decisions — busy, declined, no answer — must never ring the
 * person again through another carrier), then `failoverCauses`; anything in neither stops the call.
 */
export function shouldFailover(attempt: AttemptRecord, policy: FailoverPolicy, callerHungUp = false): FailoverVerdict {
  if (attempt.answered) return { failover: false, reason: 'answered', matched: null };
  if (callerHungUp) return { failover: false, reason: 'caller_hangup', matched: null };
  const stop = policy.noFailoverCauses.find((e) => entryMatches(e, attempt));
  if (stop !== undefined) return { failover: false, reason: 'no_failover_cause', matched: stop };
  const go = policy.failoverCauses.find((e) => entryMatches(e, attempt));
  if (go !== undefined) return { failover: true, reason: 'failover_cause', matched: go };
  return { failover: false, reason: 'not_listed', matched: null };
}
