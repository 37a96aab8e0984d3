/**
 * How one bridge attempt (one carrier leg) ended, reduced to the bounded `result` label of
 * `callrouter_bridge_attempts_total{carrier, result}`. Pure; the session code calls it with what FreeSWITCH
 * reports on the A-leg after the bridge (NOTES §5): `variable_originate_disposition` (cause name),
 * `variable_sip_invite_failure_status` (the carrier's final SIP status) and, where only a number is known,
 * the Q.850 cause code.
 *
 * Precedence, first match wins:
 * 1. `answered: true`, or cause `SUCCESS` / `call accepted` → `answered`.
 * 2. The carrier's SIP status, except 487 (that is the reply to OUR CANCEL after a ring/progress timeout, so
 *    the cause says more):
 *    | SIP | result |
 *    |---|---|
 *    | 2xx | answered |
 *    | 486, 600 | busy |
 *    | 480 | no_answer |
 *    | 408, 504 | timeout |
 *    | other 5xx | unavailable |
 *    | 401, 403, 404, 407, 484, 485, 488, 603, 604, 606, 607, 608 and any other 4xx/6xx | rejected |
 *    | 1xx, 3xx | other |
 * 3. The cause name (or the Q.850 code translated to its name), table `CAUSE_RESULTS` below.
 * 4. Anything else → `other`.
 */

export const ATTEMPT_RESULTS = ['answered', 'busy', 'no_answer', 'rejected', 'timeout', 'unavailable', 'other'] as const;
export type AttemptResult = (typeof ATTEMPT_RESULTS)[number];

export interface AttemptOutcome {
  /** The B-leg was answered (CHANNEL_BRIDGE seen). */
  answered?: boolean | undefined;
  /** FreeSWITCH cause name, e.g. `USER_BUSY`, `NORMAL_TEMPORARY_FAILURE` (originate_disposition). */
  cause?: string | undefined;
  /** Q.850 cause code, used only when `cause` is absent. */
  q850?: number | undefined;
  /** Final SIP status from the carrier (sip_invite_failure_status), e.g. 503. */
  sipStatus?: number | undefined;
}

/** Cause name → result. Names are FreeSWITCH's spelling (switch_types.h / switch_channel.c). */
export const CAUSE_RESULTS: Readonly<Record<string, AttemptResult>> = {
  SUCCESS: 'answered',
  USER_BUSY: 'busy',
  NO_ANSWER: 'no_answer',
  NO_USER_RESPONSE: 'no_answer',
  SUBSCRIBER_ABSENT: 'no_answer',
  CALL_REJECTED: 'rejected',
  UNALLOCATED_NUMBER: 'rejected',
  NO_ROUTE_DESTINATION: 'rejected',
  NUMBER_CHANGED: 'rejected',
  INVALID_NUMBER_FORMAT: 'rejected',
  INCOMPATIBLE_DESTINATION: 'rejected',
  FACILITY_REJECTED: 'rejected',
  OUTGOING_CALL_BARRED: 'rejected',
  BEARERCAPABILITY_NOTAUTH: 'rejected',
  RECOVERY_ON_TIMER_EXPIRE: 'timeout',
  ALLOTTED_TIMEOUT: 'timeout',
  PROGRESS_TIMEOUT: 'timeout',
  NORMAL_TEMPORARY_FAILURE: 'unavailable',
  NETWORK_OUT_OF_ORDER: 'unavailable',
  DESTINATION_OUT_OF_ORDER: 'unavailable',
  GATEWAY_DOWN: 'unavailable',
  SWITCH_CONGESTION: 'unavailable',
  NORMAL_CIRCUIT_CONGESTION: 'unavailable',
  SERVICE_UNAVAILABLE: 'unavailable',
  REQUESTED_CHAN_UNAVAIL: 'unavailable',
};

/** Q.850 code → FreeSWITCH cause name, for the codes that appear in CAUSE_RESULTS. */
export const Q850_CAUSES: Readonly<Record<number, string>> = {
  1: 'UNALLOCATED_NUMBER',
  3: 'NO_ROUTE_DESTINATION',
  17: 'USER_BUSY',
  18: 'NO_USER_RESPONSE',
  19: 'NO_ANSWER',
  20: 'SUBSCRIBER_ABSENT',
  21: 'CALL_REJECTED',
  22: 'NUMBER_CHANGED',
  27: 'DESTINATION_OUT_OF_ORDER',
  28: 'INVALID_NUMBER_FORMAT',
  29: 'FACILITY_REJECTED',
  34: 'NORMAL_CIRCUIT_CONGESTION',
  38: 'NETWORK_OUT_OF_ORDER',
  41: 'NORMAL_TEMPORARY_FAILURE',
  42: 'SWITCH_CONGESTION',
  44: 'REQUESTED_CHAN_UNAVAIL',
  52: 'OUTGOING_CALL_BARRED',
  57: 'BEARERCAPABILITY_NOTAUTH',
  63: 'SERVICE_UNAVAILABLE',
  88: 'INCOMPATIBLE_DESTINATION',
  102: 'RECOVERY_ON_TIMER_EXPIRE',
};

function fromSip(status: number): AttemptResult | undefined {
  if (!Number.isInteger(status) || status < 100 || status > 699 || status === 487) return undefined;
  if (status < 200) return 'other';
  if (status < 300) return 'answered';
  if (status < 400) return 'other';
  if (status === 486 || status === 600) return 'busy';
  if (status === 480) return 'no_answer';
  if (status === 408 || status === 504) return 'timeout';
  if (status >= 500 && status < 600) return 'unavailable';
  return 'rejected';
}

/** Classify one attempt; total (never throws), result is always one of ATTEMPT_RESULTS. */
export function classifyAttempt(o: AttemptOutcome): AttemptResult {
  const cause = o.cause?.trim() || (o.q850 === undefined ? undefined : Q850_CAUSES[o.q850]);
  if (o.answered === true || cause === 'SUCCESS' || cause === 'call accepted') return 'answered';
  const sip = o.sipStatus === undefined ? undefined : fromSip(o.sipStatus);
  if (sip !== undefined) return sip;
  if (cause !== undefined && Object.hasOwn(CAUSE_RESULTS, cause)) return CAUSE_RESULTS[cause] ?? 'other';
  return 'other';
}
