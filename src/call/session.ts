/**
 * The per-call session: FreeSWITCH connected (`socket ... async full`) for one campaign call; this drives it
 * from `connect` to `exit`.
 *
 * Flow: connect → read and check the campaign/lead/tenant channel variables → plan (pure) → per candidate:
 * identity + bridge argument → write, in ONE batch for the first attempt, `linger N`, `filter Unique-ID <uuid>`,
 * the negative filters of UNREAD_APPS, `event json <the 3 events we use>`, `multiset continue_on_fail=true hangup_after_bridge=true
 * sip_copy_custom_headers=false` and the `bridge` to one carrier (replies matched in order: the connection
 * pipelines) → wait for CHANNEL_BRIDGE (answered) or that bridge's CHANNEL_EXECUTE_COMPLETE → fail over per
 * policy (reset multiset + bridge, one write) → at the end hang the A-leg up if it is still up, wait (bounded) for
 * CHANNEL_HANGUP_COMPLETE, `exit`, close. A typed error still subscribes first, then hangs up with its cause.
 *
 * Why this subscription: `filter` FIRST so no other channel's events ever reach this socket (without myevents
 * or a filter they do, transcript 4a_no_myevents_json), then only the event names the session reads, in JSON
 * (not URL-encoded). `linger N` — never bare `linger`, which lingers forever — keeps the socket after hangup so
 * the failed bridge's EXECUTE_COMPLETE and CHANNEL_HANGUP_COMPLETE still arrive. The linger notice counts as
 * "the caller is gone" (it can beat the events saying so), but never as a reason to exit on its own.
 *
 * Contract: the returned handler NEVER throws or rejects; an unexpected exception becomes outcome `error`, code
 * `internal_error`, logged. It always leaves the connection closed, with no timer or listener behind. One
 * summary log line (info) and one `callrouter_calls_total` increment per call.
 */
import type { Config } from '../config/schema.js';
import { ownString, type EslEvent } from '../esl/channel-data.js';
import { DEFAULT_TIMERS, prepareCommand, type EslTimers, type OutboundConnection } from '../esl/connection.js';
import type { CallErrorCode, CarrierRejectReason } from '../errors.js';
import { identityForCandidate } from '../identity/candidate-identity.js';
import { identityLogFields, type IdentityLogFields } from '../identity/explain.js';
import type { SigningKeys } from '../identity/keys.js';
import type { SignedPassport } from '../identity/passport.js';
import { callLogger, type Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { CallInput } from '../routing/types.js';
import { answerSipStatus, failoverPolicyFromConfig, readAttempt, shouldFailover, type AttemptRecord } from './attempt-policy.js';
import { buildBridgeArgs } from './bridge-args.js';
import { ChannelWatch } from './channel-watch.js';
import {
  hangupCauseFor, hangupCauseForAttempts, outcomeForAttempts, outcomeForError, type CallOutcome,
} from './outcome.js';
import type { PlanLookup } from './planner.js';

export type { PlanLookup } from './planner.js';

export interface CallHandlerDeps {
  config: Config;
  /** Plans one call (the app builds it with `createCallPlanner(store, callPlanOptionsFromConfig(config))`). */
  plan: (input: CallInput) => PlanLookup;
  keys: SigningKeys;
  metrics: Metrics;
  /** Root logger; the session makes the per-call child (call_uuid, campaign_id, lead_id, tenant_id). */
  logger: Logger;
  /** Epoch ms; fractional values give sub-ms decision timings (e.g. `performance.timeOrigin + performance.now()`). */
  now: () => number;
  /** A UUID per call (the PASSporT `origid`). */
  newUuid: () => string;
  /** Timers for the session's own bounds (default: the globals). */
  timers?: EslTimers;
}

export interface SessionContext {
  /** When the connection was accepted (same clock as `deps.now`). */
  acceptedAt: number;
}

export type CallHandler = (conn: OutboundConnection, ctx: SessionContext) => Promise<void>;

/**
 * Events the session reads (NEVER `ALL`). Not CHANNEL_HANGUP: every event the switch sends after the A-leg hung up
 * says so in `Answer-State: hangup` (the bridge's completion included — on the real switch CHANNEL_HANGUP always
 * comes just before it, or before CHANNEL_HANGUP_COMPLETE when no app was running; transcripts 4b_*, 4d_*), and the
 * linger notice says it too, so subscribing to it only cost one more ~4 KB event per call on both sides.
 */
export const SESSION_EVENTS = ['CHANNEL_EXECUTE_COMPLETE', 'CHANNEL_BRIDGE', 'CHANNEL_HANGUP_COMPLETE'] as const;

/**
 * Apps whose CHANNEL_EXECUTE_COMPLETE the session never reads: the A-leg `multiset` and, at hangup, the `socket`
 * app itself. A negative filter (`filter Application -multiset`) makes the switch drop them before they are
 * serialized (mod_event_socket vetoes an event a `-value` filter matches), so each call gets two fewer ~4 KB
 * events. A switch without negative filters would only send them, and the session ignores them.
 */
export const UNREAD_APPS = ['multiset', 'socket'] as const;

/** A-leg variables, one `multiset` (continue_on_fail / hangup_after_bridge only work on the A-leg, NOTES §5). */
export const A_LEG_MULTISET = 'continue_on_fail=true hangup_after_bridge=true sip_copy_custom_headers=false';

/**
 * Unset before every attempt after the first: the real switch leaves an earlier attempt's SIP failure status on
 * the A-leg, and it must not be read as this attempt's (`set name=` with no value unsets).
 */
export const ATTEMPT_RESET_MULTISET = 'sip_invite_failure_status= sip_invite_failure_phrase= last_bridge_proto_specific_hangup_cause= originate_failed_cause=';

/**
 * Added to ring + progress timeout to bound one attempt's wait. FreeSWITCH itself ends the attempt at the ring
 * timeout (precision ~1 s, NOTES §9); the margin only matters when it does not (a stuck switch), so it is generous.
 */
export const ATTEMPT_MARGIN_SECONDS = 10;

const CHANNEL_VALUE_RE = /^[A-Za-z0-9_.:@-]{1,128}$/;
/** Longest replica-sourced ID copied into a log line. */
const LOGGED_ID_MAX = 128;
const CHANNEL_UUID_RE = /^[A-Za-z0-9-]{1,64}$/;

interface Summary {
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

/** Creates the per-connection handler. See the module comment for the contract. */
export function createCallHandler(deps: CallHandlerDeps): CallHandler {
  const { config, metrics } = deps;
  const timers = deps.timers ?? DEFAULT_TIMERS;
  const policy = failoverPolicyFromConfig(config.routing);
  const overrides = config.routing.hangup_causes;
  const cmdTimeout = config.esl.command_timeout_ms;
  const attemptBoundMs =
    (config.routing.ring_timeout_seconds + config.routing.progress_timeout_seconds + ATTEMPT_MARGIN_SECONDS) * 1000;
  // The setup commands every call sends the same, built once.
  const lingerCommand = prepareCommand('linger', [String(config.esl.linger_seconds)]);
  const unreadAppFilters = UNREAD_APPS.map((app) => prepareCommand('filter', ['Application', `-${app}`]));
  const eventCommand = prepareCommand('event', ['json', ...SESSION_EVENTS]);

  return async function handleCall(conn: OutboundConnection, ctx: SessionContext): Promise<void> {
    const startedAt = safeNow(deps.now);
    const s: Summary = {
      outcome: null, code: null, hangupCause: null, callUuid: null, campaignId: null, leadId: null, tenantId: null,
      decisionSource: null, forcedCarrier: null, candidates: [], skippedCandidates: [], attempts: [], identity: null,
      decisionMs: null, setupMs: null, callerHungUp: false, eslDetail: null, eslClose: null, warnings: [], error: undefined,
    };
    let watch: ChannelWatch | undefined;
    /** The A-leg must be hung up with this cause at the end (when still up). */
    let pendingHangup: string | null = null;

    const fail = (code: CallErrorCode, detail?: string): void => {
      s.code = code;
      s.outcome = outcomeForError(code);
      if (code === 'esl_failure' && detail !== undefined) s.eslDetail = detail;
      pendingHangup = hangupCauseFor(code, overrides);
    };

    /**
     * The connection failed mid-call. A close preceded by FreeSWITCH's own disconnect notice (without linger it
     * sends one when the channel hangs up) or by a linger notice means the caller hung up; otherwise it is a
     * session failure (TCP dropped, a command timed out, a setup command refused).
     */
    const lost = (detail: string): void => {
      if (watch?.aLegGone === true || conn.notices.some((n) => n.disposition === 'disconnect' || n.disposition === 'linger')) {
        callerGone();
        return;
      }
      fail('esl_failure', detail);
    };

    const run = async (): Promise<void> => {
      // Read the few variables needed and let the connect reply's 100+ decoded headers go (nothing in this frame
      // keeps the channel): a bridged call holds its session for minutes (memory per lingering session).
      const connected = await conn.connect(config.esl.connect_timeout_ms).then((c) =>
        c.ok
          ? {
            ok: true as const, uuid: c.channel.uuid, input: readChannelInput(c.channel.variables, config.esl.variables),
            modeRefused: socketModeRefusal(c.channel.headers),
          }
          : c,
      );
      conn.releaseChannelData();
      if (!connected.ok) {
        fail('esl_failure', `connect: ${connected.code}`);
        pendingHangup = null;
        return;
      }
      const { uuid, input } = connected;
      if (!CHANNEL_UUID_RE.test(uuid)) {
        // Never put it in a command; a plain `sendmsg` hangup still targets this socket's own channel.
        fail('invalid_channel_variable');
        return;
      }
      s.callUuid = uuid;
      if (connected.modeRefused !== null) {
        // Without `full` the switch refuses linger and event (the bridge would still run, unobserved); without
        // `async` a queued bridge blocks the socket until it ends (NOTES §1). Nothing is sent but the hangup.
        if (input.ok) {
          s.campaignId = input.value.campaignId;
          s.leadId = input.value.leadId;
        }
        s.warnings.push({
          msg: 'the socket app must run with "async full" (<action application="socket" data="host:port async full"/>)',
          fields: connected.modeRefused,
        });
        return fail('socket_mode_unsupported');
      }
      watch = new ChannelWatch(conn, uuid, deps.now, timers);
      // The watch follows every event as it arrives; the connection's look-back backlog would only hold memory.
      conn.keepEventBacklog(0);

      // Subscribe now but do not wait: the decision needs no reply, and the first attempt's multiset and bridge
      // are issued in this same tick, so linger, filter, event, multiset and bridge leave in ONE write and the
      // call costs two round trips (connect; the rest). FreeSWITCH runs them in order: the events are subscribed
      // before the bridge runs.
      const setup = [
        ['linger', conn.send(lingerCommand, cmdTimeout)],
        ['filter', conn.command('filter', ['Unique-ID', uuid], cmdTimeout)],
        ...unreadAppFilters.map((filter) => ['filter', conn.send(filter, cmdTimeout)] as const),
        ['event', conn.send(eventCommand, cmdTimeout)],
      ] as const;
      /** Null when every setup command succeeded, else what failed (for `lost`). */
      const setupFailure = async (): Promise<string | null> => {
        for (const [name, pending] of setup) {
          const r = await pending;
          if (!r.ok) return `${name}: ${r.code}`;
        }
        return null;
      };
      /** Ends the call with `code` once the setup is known good (or as lost when it is not). */
      const failAfterSetup = async (code: CallErrorCode): Promise<void> => {
        const bad = await setupFailure();
        if (bad !== null) return lost(bad);
        return fail(code);
      };

      if (!input.ok) return failAfterSetup(input.code);
      s.campaignId = input.value.campaignId;
      s.leadId = input.value.leadId;
      s.tenantId = input.value.claimedTenantId ?? null;

      const t0 = deps.now();
      const lookup = deps.plan(input.value);
      s.decisionMs = deps.now() - t0;
      metrics.observeDecision(s.decisionMs / 1000);
      if (!lookup.ok) return failAfterSetup(lookup.code);
      const { decision, candidates, names } = lookup.plan;
      s.tenantId = decision.tenantId ?? s.tenantId;
      if (decision.forcedCarrier !== null) {
        // The ID is raw campaign metadata (not validated when the carrier is not found): bound what it adds to
        // every log line of the campaign's calls, as the per-call logger bounds the other IDs.
        const id = decision.forcedCarrier.carrierId;
        s.forcedCarrier = { carrier_id: id === null ? null : id.slice(0, LOGGED_ID_MAX), outcome: decision.forcedCarrier.outcome };
        if (decision.forcedCarrier.outcome !== 'used') {
          metrics.forcedCarrierFallback(decision.forcedCarrier.outcome as CarrierRejectReason);
          s.warnings.push({ msg: 'forced carrier not used; fell back to routes', fields: { forced_carrier: s.forcedCarrier } });
        }
      }
      if (decision.error !== null) return failAfterSetup(decision.error.code);
      s.decisionSource = decision.source;
      if (decision.source !== null) metrics.routeDecision(decision.source);
      s.candidates = candidates.map((c) => c.candidate.carrierName);
      for (const pc of candidates) {
        for (const p of pc.identity.problems) {
          s.warnings.push({ msg: 'carrier identity column unusable; default used', fields: { carrier: pc.candidate.carrierName, field: p.field, problem: p.code, fallback: p.fallback } });
        }
      }

      const origid = deps.newUuid();
      let passport: SignedPassport | null = null;
      let lastBuildError: CallErrorCode | null = null;
      let aLegPrepared = false;
      let gaveUp = false;

      for (const pc of candidates) {
        if (watch.aLegGone) break;
        // Closed before this attempt could be sent (e.g. broken in the same read as the connect reply): a session
        // failure — or the caller, if the switch said so first — never a routing outcome.
        if (watch.closed || conn.isClosed) return lost('connection closed before the bridge');
        const { candidate } = pc;
        const identity = identityForCandidate({
          plan: pc.identity, keys: deps.keys, tenantId: decision.tenantId, origTn: decision.callerId ?? '',
          destTn: decision.destination ?? '', nowMs: deps.now(), origid, reuse: passport,
        });
        if (!identity.ok) {
          s.skippedCandidates.push({ carrier: candidate.carrierName, code: identity.code });
          lastBuildError = identity.code;
          continue;
        }
        passport = identity.passport ?? passport;
        const args = buildBridgeArgs({
          gateway: candidate.carrierName, number: candidate.number, callerId: candidate.callerId,
          identity: identity.variables,
          ringTimeoutSeconds: config.routing.ring_timeout_seconds,
          progressTimeoutSeconds: config.routing.progress_timeout_seconds,
          sipCidType: config.bridge.sip_cid_type, callerIdName: config.bridge.caller_id_name, names,
          extraLegVariables: config.bridge.extra_leg_variables,
        });
        if (!args.ok) {
          s.skippedCandidates.push({ carrier: candidate.carrierName, code: args.code });
          lastBuildError = args.code;
          continue;
        }
        if (args.callerIdNameFallback !== null) {
          s.warnings.push({ msg: 'caller ID name not usable; the number is shown', fields: { carrier: candidate.carrierName, reason: args.callerIdNameFallback } });
        }

        // The A-leg variables and the bridge in one write (FreeSWITCH runs queued apps in order; the previous
        // bridge, if any, has completed, so nothing runs nested inside a bridge — NOTES §4).
        const prepSent = conn.execute('multiset', aLegPrepared ? ATTEMPT_RESET_MULTISET : A_LEG_MULTISET, { timeoutMs: cmdTimeout });
        aLegPrepared = true;
        s.identity ??= identityLogFields(identity.plan);
        const timing = watch.beginAttempt();
        const sentAt = deps.now();
        if (s.setupMs === null) {
          s.setupMs = sentAt - ctx.acceptedAt;
          metrics.observeSetup(s.setupMs / 1000);
        }
        const w = watch;
        let goneBeforeBridgeRead = false;
        const bridgeSent = conn.execute('bridge', args.arg, {
          timeoutMs: cmdTimeout,
          onReply: () => {
            goneBeforeBridgeRead = w.aLegGone;
          },
        });
        if (s.attempts.length === 0) {
          const bad = await setupFailure();
          if (bad !== null) return lost(bad);
        }
        const prep = await prepSent;
        if (!prep.ok) return lost(`multiset: ${prep.code}`);
        const bridge = await bridgeSent;
        if (!bridge.ok) return lost(`bridge: ${bridge.code}`);
        // FreeSWITCH answers a command after the hangup it has already reported, and never runs an app queued
        // then (NOTES §4): no carrier was tried, so no attempt is recorded (it would blame the carrier).
        if (goneBeforeBridgeRead) break;
        if (identity.plan.level !== null) metrics.attestation(identity.plan.level, identity.plan.mode, identity.plan.downgraded);

        const completed = (): EslEvent | undefined => w.completion(bridge.eventUuid);
        await w.until(() => completed() !== undefined || timing.bridgedAt !== null || w.aLegGone, attemptBoundMs);
        const base = {
          attempt: s.attempts.length + 1, carrierId: candidate.carrierId, carrierName: candidate.carrierName,
          routeId: candidate.routeId,
        };
        let attempt: AttemptRecord;
        if (timing.bridgedAt !== null || isAnsweredDisposition(completed())) {
          // The A-leg is answered when the carrier leg is bridged to it: CHANNEL_BRIDGE is the answer time.
          const answerAt = timing.bridgedAt ?? deps.now();
          const answerDelayMs = Math.max(0, answerAt - sentAt);
          metrics.observeAnswerDelay(candidate.carrierName, answerDelayMs / 1000);
          attempt = readAttempt(completed()?.headers, { ...base, durationMs: answerDelayMs, answered: true, answerDelayMs });
          s.attempts.push(attempt);
          metrics.bridgeAttempt(candidate.carrierName, attempt.result);
          // The call is up: it ends when a party hangs up (hangup_after_bridge) or the socket closes.
          await w.until(() => completed() !== undefined || w.aLegGone, null);
          // The answer's SIP status comes with the bridge's completion, at the end of the call.
          const done = completed();
          if (done !== undefined && attempt.sipStatus === null) attempt.sipStatus = answerSipStatus(done.headers);
          s.outcome = 'answered';
          return;
        }
        if (completed() === undefined && w.aLegGone) {
          // The caller hung up while it rang: wait briefly for the bridge's own completion to record its cause.
          // (It comes before CHANNEL_HANGUP_COMPLETE when the bridge ran; a bridge queued after the hangup never runs.)
          await w.until(() => completed() !== undefined || w.hangupComplete, config.esl.hangup_complete_wait_ms);
          // Hung up before the bridge ran (e.g. while its command was on the way): no carrier was tried, and
          // recording an attempt would blame one.
          if (completed() === undefined && w.hangupComplete) break;
        }
        const done = completed();
        if (done === undefined && !w.aLegGone && !w.closed) gaveUp = true;
        attempt = readAttempt(done?.headers, { ...base, durationMs: Math.max(0, deps.now() - sentAt) },
          gaveUp ? 'ALLOTTED_TIMEOUT' : w.aLegGone ? 'ORIGINATOR_CANCEL' : null);
        s.attempts.push(attempt);
        metrics.bridgeAttempt(candidate.carrierName, attempt.result);
        if (w.closed && !w.aLegGone) return lost('connection closed during the bridge');
        if (gaveUp) {
          s.warnings.push({ msg: 'bridge did not complete within the attempt bound; hanging up', fields: { carrier: candidate.carrierName, bound_ms: attemptBoundMs } });
          break;
        }
        const verdict = shouldFailover(attempt, policy, w.aLegGone);
        if (!verdict.failover) break;
        metrics.failover(candidate.carrierName);
      }

      if (s.attempts.length === 0) {
        if (watch.aLegGone) return callerGone();
        return fail(lastBuildError ?? 'no_route');
      }
      s.callerHungUp = watch.aLegGone;
      s.outcome = outcomeForAttempts(s.attempts, s.callerHungUp);
      pendingHangup = gaveUp ? 'ALLOTTED_TIMEOUT' : hangupCauseForAttempts(s.attempts);
    };

    const callerGone = (): void => {
      s.callerHungUp = true;
      s.outcome = 'caller_hangup';
    };

    /** Hang up if needed, wait for CHANNEL_HANGUP_COMPLETE (bounded), exit, close. Never throws. */
    const finish = async (): Promise<void> => {
      const w = watch;
      if (!conn.isClosed) {
        const aLegUp = w === undefined ? true : !w.aLegGone;
        if (pendingHangup !== null && aLegUp) {
          s.hangupCause = pendingHangup;
          await conn.hangup(pendingHangup, cmdTimeout);
        }
        if (w !== undefined && (s.hangupCause !== null || w.aLegGone)) {
          // On the real switch the linger notice can come before CHANNEL_HANGUP_COMPLETE: wait for the event.
          await w.until(() => w.hangupComplete, config.esl.hangup_complete_wait_ms);
        }
        if (!conn.isClosed) await conn.exit(cmdTimeout);
      }
      await conn.close(cmdTimeout);
    };

    try {
      await run();
    } catch (err) {
      s.error = err;
      fail('internal_error');
    }
    try {
      await finish();
    } catch (err) {
      s.error ??= err;
      conn.destroy('session cleanup failed');
    } finally {
      watch?.dispose();
      if (!conn.isClosed) conn.destroy('session ended');
    }
    if (s.code === 'esl_failure') {
      // The failing command only saw `closed`; the connection knows why (a stall, garbage, an oversized frame).
      // It is closed or destroyed by now, so this resolves at once.
      const info = await conn.closed;
      s.eslClose = { reason: info.reason, detail: info.detail };
    }
    report(deps, s, startedAt);
  };
}

type ChannelInput = { ok: true; value: CallInput } | { ok: false; code: 'missing_channel_variable' | 'invalid_channel_variable' };

/** Reads campaign, lead and (optional) tenant from the channel variables named in config `esl.variables`. */
export function readChannelInput(
  variables: ReadonlyMap<string, string>,
  names: Config['esl']['variables'],
): ChannelInput {
  const campaignId = variables.get(names.campaign_id) ?? '';
  const leadId = variables.get(names.lead_id) ?? '';
  const tenant = variables.get(names.tenant_id) ?? '';
  if (campaignId === '' || leadId === '') return { ok: false, code: 'missing_channel_variable' };
  if (!CHANNEL_VALUE_RE.test(campaignId) || !CHANNEL_VALUE_RE.test(leadId)) return { ok: false, code: 'invalid_channel_variable' };
  if (tenant !== '' && !CHANNEL_VALUE_RE.test(tenant)) return { ok: false, code: 'invalid_channel_variable' };
  // Own copies: these outlive the connect reply they were sliced from (see ownString).
  return { ok: true, value: { campaignId: ownString(campaignId), leadId: ownString(leadId), claimedTenantId: tenant === '' ? undefined : ownString(tenant) } };
}

const MODE_VALUE_RE = /^[a-z-]{1,32}$/;

/**
 * Null when the connect reply says the socket app runs `async full` (FreeSWITCH sends `Socket-Mode: async|static`
 * and `Control: full|single-channel`, transcript 4a_handshake_json); otherwise both flags for the log, each only
 * when it looks like such a word.
 */
export function socketModeRefusal(headers: ReadonlyMap<string, string>): { socket_mode: string | null; control: string | null } | null {
  const socketMode = headers.get('Socket-Mode') ?? null;
  const control = headers.get('Control') ?? null;
  if (socketMode === 'async' && control === 'full') return null;
  const shown = (v: string | null): string | null => (v === null || MODE_VALUE_RE.test(v) ? v : '(malformed)');
  return { socket_mode: shown(socketMode), control: shown(control) };
}

function safeNow(now: () => number): number {
  try {
    return now();
  } catch {
    return 0;
  }
}

/** Metrics and the one summary line. Never throws. */
function report(deps: CallHandlerDeps, s: Summary, startedAt: number): void {
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

function isAnsweredDisposition(event: EslEvent | undefined): boolean {
  const d = event?.headers.get('variable_originate_disposition');
  return d === 'SUCCESS' || d === 'call accepted';
}
