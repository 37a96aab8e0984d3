/**
 * How a whole call ended (`callrouter_calls_total{outcome}`) and which hangup cause the A-leg gets. Pure.
 *
 * Outcomes:
 * | outcome | when |
 * |---|---|
 * | answered | an attempt was answered (CHANNEL_BRIDGE) |
 * | busy / no_answer / rejected | the last attempt ended so (a callee decision: no further carrier was tried) |
 * | failed | every attempt failed otherwise (carriers unavailable, timeouts) |
 * | no_route | `no_route` |
 * | invalid | bad data: `invalid_destination`, `invalid_caller_id`, `unsafe_dial_value`, `campaign_not_found`, `lead_not_found`, `lead_list_not_found`, `tenant_mismatch`, `missing_channel_variable`, `invalid_channel_variable` |
 * | caller_hangup | the A-leg hung up before any attempt was answered |
 * | error | `replica_unavailable`, `identity_unavailable`, `internal_error`, `esl_failure`, `socket_mode_unsupported` |
 *
 * Hangup causes for calls that end with an error code (config `routing.hangup_causes` overrides each):
 * | code | default cause |
 * |---|---|
 * | no_route | NO_ROUTE_DESTINATION |
 * | invalid_destination | INVALID_NUMBER_FORMAT |
 * | invalid_caller_id, lead_not_found, lead_list_not_found, campaign_not_found, tenant_mismatch, unsafe_dial_value | CALL_REJECTED |
 * | missing_channel_variable | MANDATORY_IE_MISSING |
 * | invalid_channel_variable | INVALID_IE_CONTENTS |
 * | replica_unavailable, internal_error, esl_failure, socket_mode_unsupported | NORMAL_TEMPORARY_FAILURE |
 * | identity_unavailable | SERVICE_UNAVAILABLE |
 *
 * `NORMAL_TEMPORARY_FAILURE` (Q.850 41) is FreeSWITCH's name for "temporary failure"; a bare
 * `TEMPORARY_FAILURE` is not in its cause table and would not hang up with the intended cause.
 * When every attempt failed, the A-leg is hung up with the LAST attempt's cause (`USER_BUSY`, `NO_ANSWER`...)
 * so the dialer sees what the carrier said; NORMAL_TEMPORARY_FAILURE when that cause is unknown.
 */
import type { CallErrorCode } from '../errors.js';
import type { CallOutcome } from '../observability/metrics.js';
import type { AttemptRecord } from './attempt-policy.js';

export type { CallOutcome } from '../observability/metrics.js';

/** Default hangup cause per error code (see the module comment). */
export const DEFAULT_HANGUP_CAUSES: Readonly<Record<CallErrorCode, string>> = {
  no_route: 'NO_ROUTE_DESTINATION',
  invalid_destination: 'INVALID_NUMBER_FORMAT',
  invalid_caller_id: 'CALL_REJECTED',
  lead_not_found: 'CALL_REJECTED',
  lead_list_not_found: 'CALL_REJECTED',
  campaign_not_found: 'CALL_REJECTED',
  tenant_mismatch: 'CALL_REJECTED',
  unsafe_dial_value: 'CALL_REJECTED',
  missing_channel_variable: 'MANDATORY_IE_MISSING',
  invalid_channel_variable: 'INVALID_IE_CONTENTS',
  replica_unavailable: 'NORMAL_TEMPORARY_FAILURE',
  identity_unavailable: 'SERVICE_UNAVAILABLE',
  internal_error: 'NORMAL_TEMPORARY_FAILURE',
  esl_failure: 'NORMAL_TEMPORARY_FAILURE',
  socket_mode_unsupported: 'NORMAL_TEMPORARY_FAILURE',
};

/** The cause used when nothing better is known. */
export const FALLBACK_HANGUP_CAUSE = 'NORMAL_TEMPORARY_FAILURE';

const CAUSE_NAME_RE = /^[A-Z][A-Z0-9_]{0,63}$/;

/** The hangup cause for `code`: the `routing.hangup_causes` override when present and well-formed, else the default. */
export function hangupCauseFor(code: CallErrorCode, overrides: Readonly<Record<string, string>> = {}): string {
  const override = Object.hasOwn(overrides, code) ? overrides[code] : undefined;
  if (override !== undefined && CAUSE_NAME_RE.test(override)) return override;
  return DEFAULT_HANGUP_CAUSES[code] ?? FALLBACK_HANGUP_CAUSE;
}

const ERROR_OUTCOMES: Readonly<Partial<Record<CallErrorCode, CallOutcome>>> = {
  no_route: 'no_route',
  replica_unavailable: 'error',
  identity_unavailable: 'error',
  internal_error: 'error',
  esl_failure: 'error',
  socket_mode_unsupported: 'error',
};

/** The outcome of a call that ended with error `code` (before or instead of an answered attempt). */
export function outcomeForError(code: CallErrorCode): CallOutcome {
  return ERROR_OUTCOMES[code] ?? 'invalid';
}

/**
 * The outcome of a call whose attempts ran: `answered` if any was; else `caller_hangup` when the caller hung
 * up; else by the last attempt's result (busy, no_answer, rejected), anything else `failed`.
 */
export function outcomeForAttempts(attempts: readonly AttemptRecord[], callerHungUp: boolean): CallOutcome {
  if (attempts.some((a) => a.answered)) return 'answered';
  if (callerHungUp) return 'caller_hangup';
  const last = attempts.at(-1);
  if (last === undefined) return 'failed';
  if (last.result === 'busy' || last.result === 'no_answer' || last.result === 'rejected') return last.result;
  return 'failed';
}

/** The A-leg hangup cause after every attempt failed: the last attempt's cause, when it is a cause name. */
export function hangupCauseForAttempts(attempts: readonly AttemptRecord[]): string {
  const cause = attempts.at(-1)?.cause ?? null;
  return cause !== null && CAUSE_NAME_RE.test(cause) && cause !== 'SUCCESS' ? cause : FALLBACK_HANGUP_CAUSE;
}
