/**
 * What one call came to — filled in by the session as it goes — and its report: the per-call metrics and the
 * one summary log line (info), with the warnings and any unexpected exception before it.
 */
import type { CallErrorCode } from '../errors.js';
import type { IdentityLogFields } from '../identity/explain.js';
import { callLogger, type Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { AttemptRecord } from './attempt-policy.js';
import type { CallOutcome } from './outcome.js';

export interface Summary {
  outcome: CallOutcome | null;
  code: CallErrorCode | null;
  hangupCause: string | null;
  callUuid: string | null;
  campaignId: string | null;
  leadId: string | null;
  tenantId: string | null;
  decisionSource: 'forced' | 'route' | null;
  forcedCarrier: { carrier_id: string | null; outcome: string } | null;
  candidates: string[];
  skippedCandidates: { carrier: string; code: string }[];
  attempts: AttemptRecord[];
  identity: IdentityLogFields | null;
  decisionMs: number | null;
  setupMs: number | null;
  callerHungUp: boolean;
  eslDetail: string | null;
  /** Why the connection closed, when the session failed on it (timeout, protocol_error, frame_too_large...). */
  eslClose: { reason: string; detail: string | undefined } | null;
  warnings: { msg: string; fields: Record<string, unknown> }[];
  error: unknown;
}

/** A summary with nothing known yet. */
export function newSummary(): Summary {
  return {
    outcome: null, code: null, hangupCause: null, callUuid: null, campaignId: null, leadId: null, tenantId: null,
    decisionSource: null, forcedCarrier: null, candidates: [], skippedCandidates: [], attempts: [], identity: null,
    decisionMs: null, setupMs: null, callerHungUp: false, eslDetail: null, eslClose: null, warnings: [], error: undefined,
  };
}

/** `now()`, or 0 when the injected clock throws: timing a call must never fail it. */
export function safeNow(now: () => number): number {
  try {
    return now();
  } catch {
    return 0;
  }
}

/** Metrics and the one summary line. Never throws. */
export function reportCall(deps: { metrics: Metrics; logger: Logger; now: () => number }, s: Summary, startedAt: number): void {
  try {
    const outcome = s.outcome ?? 'error';
    deps.metrics.callOutcome(outcome);
    if (s.code !== null) deps.metrics.callError(s.code);
    const root = deps.logger;
    const info = root.isLevelEnabled('info');
    // The per-call child logger and the summary object are built only when a line will be written.
    if (!info && !(s.warnings.length > 0 && root.isLevelEnabled('warn')) && !(s.error !== undefined && root.isLevelEnabled('error'))) return;
    const log = callLogger(root, {
      callUuid: s.callUuid ?? undefined,
      campaignId: s.campaignId ?? undefined,
      leadId: s.leadId ?? undefined,
      tenantId: s.tenantId ?? undefined,
    });
    for (const w of s.warnings) log.warn(w.fields, w.msg);
    if (s.error !== undefined) log.error({ err: s.error }, 'unexpected exception while handling the call');
    if (!info) return;
    log.info(
      {
        outcome,
        code: s.code,
        hangup_cause: s.hangupCause,
        decision_source: s.decisionSource,
        forced_carrier: s.forcedCarrier,
        candidates: s.candidates,
        skipped_candidates: s.skippedCandidates.length > 0 ? s.skippedCandidates : undefined,
        attempts: s.attempts.map((a) => ({
          carrier: a.carrierName, route_id: a.routeId, sip_status: a.sipStatus, cause: a.cause, result: a.result,
          duration_ms: Math.round(a.durationMs), answer_delay_ms: a.answerDelayMs === null ? null : Math.round(a.answerDelayMs),
        })),
        caller_hangup: s.callerHungUp,
        ...(s.identity ?? {}),
        esl_detail: s.eslDetail ?? undefined,
        esl_close: s.eslClose ?? undefined,
        decision_us: s.decisionMs === null ? null : Math.round(s.decisionMs * 1000),
        setup_ms: s.setupMs === null ? null : Math.round(s.setupMs),
        duration_ms: Math.round(safeNow(deps.now) - startedAt),
      },
      'call',
    );
  } catch {
    // Reporting must never turn a finished call into a crash.
  }
}
