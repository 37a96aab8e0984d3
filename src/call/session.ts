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
 * Shape: a state machine over the connection's callbacks, not an async function awaiting a promise per command
 * and per wait — those promises, their reactions and the closures around them were a large share of a call's
 * CPU (README "Performance"). Every input (a reply, an event, a notice, the close, the session's one timer)
 * records what it says and schedules one step, which runs after the whole chunk of frames has been read, as
 * the awaits did; the step moves through as many phases as the state allows.
 *
 * Contract: the returned handler NEVER throws or rejects; an unexpected exception becomes outcome `error`, code
 * `internal_error`, logged. It always leaves the connection closed, with no timer or listener behind. One
 * summary log line (info) and one `callrouter_calls_total` increment per call.
 */
import type { Config } from '../config/schema.js';
import type { EslEvent } from '../esl/channel-data.js';
import {
  DEFAULT_TIMERS, prepareCommand, prepareExecute, type CommandResult, type ConnectResult, type EslTimers, type ExecuteResult,
  type OutboundConnection, type PreparedCommand, type PreparedExecute,
} from '../esl/connection.js';
import type { CallErrorCode, CarrierRejectReason } from '../errors.js';
import { identityForCandidate } from '../identity/candidate-identity.js';
import { identityLogFields } from '../identity/explain.js';
import type { SigningKeys } from '../identity/keys.js';
import type { SignedPassport } from '../identity/passport.js';
import type { IdentityPlan } from '../identity/plan.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { CallPlan, PlannedCandidate } from '../routing/call-plan.js';
import type { CallInput } from '../routing/types.js';
import {
  answerSipStatus, failoverPolicyFromConfig, readAttempt, shouldFailover, type AttemptContext, type AttemptRecord,
  type FailoverPolicy,
} from './attempt-policy.js';
import { buildBridgeArgs } from './bridge-args.js';
import { ChannelWatch, type AttemptTiming } from './channel-watch.js';
import { CHANNEL_UUID_RE, readChannelInput, socketModeRefusal } from './channel-input.js';
import { hangupCauseFor, hangupCauseForAttempts, outcomeForAttempts, outcomeForError } from './outcome.js';
import type { PlanLookup } from './planner.js';
import { newSummary, reportCall, safeNow, type Summary } from './summary.js';

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

/** Longest replica-sourced ID copied into a log line. */
const LOGGED_ID_MAX = 128;

/** What every session of one handler shares: the config's values and the setup commands, built once. */
interface SessionShared {
  readonly deps: CallHandlerDeps;
  readonly config: Config;
  readonly timers: EslTimers;
  readonly policy: FailoverPolicy;
  readonly cmdTimeout: number;
  readonly attemptBoundMs: number;
  readonly hangupWaitMs: number;
  readonly lingerCommand: PreparedCommand;
  readonly unreadAppFilters: readonly PreparedCommand[];
  readonly eventCommand: PreparedCommand;
  /** The first attempt's A-leg multiset, and every later attempt's reset. */
  readonly aLegMultiset: PreparedExecute;
  readonly resetMultiset: PreparedExecute;
}

/** Creates the per-connection handler. See the module comment for the contract. */
export function createCallHandler(deps: CallHandlerDeps): CallHandler {
  const { config } = deps;
  const shared: SessionShared = {
    deps,
    config,
    timers: deps.timers ?? DEFAULT_TIMERS,
    policy: failoverPolicyFromConfig(config.routing),
    cmdTimeout: config.esl.command_timeout_ms,
    attemptBoundMs: (config.routing.ring_timeout_seconds + config.routing.progress_timeout_seconds + ATTEMPT_MARGIN_SECONDS) * 1000,
    hangupWaitMs: config.esl.hangup_complete_wait_ms,
    // The setup commands every call sends the same, built once.
    lingerCommand: prepareCommand('linger', [String(config.esl.linger_seconds)]),
    unreadAppFilters: UNREAD_APPS.map((app) => prepareCommand('filter', ['Application', `-${app}`])),
    eventCommand: prepareCommand('event', ['json', ...SESSION_EVENTS]),
    aLegMultiset: prepareExecute('multiset', A_LEG_MULTISET),
    resetMultiset: prepareExecute('multiset', ATTEMPT_RESET_MULTISET),
  };
  return (conn, ctx) => new CallSession(shared, conn, ctx).ended;
}

/**
 * Where the session is. Each phase but `done` waits for something; `#step` leaves it once that has come.
 */
type Phase =
  | 'connecting' // connect sent: its reply
  | 'failing' // a typed error: the setup's replies, then the hangup with its cause
  | 'bridging' // an attempt's multiset and bridge sent (the first attempt's with the setup): their replies
  | 'ringing' // the bridge is queued: its completion, CHANNEL_BRIDGE, the caller's hangup, or the attempt bound
  | 'answered' // bridged: the bridge's completion or the caller's hangup (no bound: the call is up)
  | 'caller_gone' // the caller hung up while it rang: the bridge's completion or CHANNEL_HANGUP_COMPLETE, bounded
  | 'hanging_up' // hangup sent: its reply
  | 'hangup_wait' // CHANNEL_HANGUP_COMPLETE, bounded (the linger notice can come first, NOTES §9)
  | 'exiting' // exit sent: its reply
  | 'closing' // the connection shut: its close
  | 'done';

/** The setup commands, in the order they are written: their replies come in this order (`#onSetupReply`). */
const SETUP_NAMES = ['linger', 'filter', ...UNREAD_APPS.map(() => 'filter'), 'event'] as const;

/** One bridge attempt in flight. */
interface Attempt {
  readonly candidate: PlannedCandidate['candidate'];
  readonly first: boolean;
  readonly sentAt: number;
  readonly timing: AttemptTiming;
  /** The bridge's Event-UUID: its CHANNEL_EXECUTE_COMPLETE's Application-UUID. */
  bridgeUuid: string;
  /** The caller was already gone when FreeSWITCH read the bridge (see the bridge's onReply). */
  goneBeforeBridgeRead: boolean;
  prep: CommandResult | undefined;
  bridge: ExecuteResult | undefined;
  /** The answered attempt's record (its SIP status comes with the completion, at the end of the call). */
  answered: AttemptRecord | undefined;
}

class CallSession {
  /** Settles (never rejects) once the call is reported. */
  readonly ended: Promise<void>;
  readonly #shared: SessionShared;
  readonly #conn: OutboundConnection;
  readonly #acceptedAt: number;
  readonly #startedAt: number;
  readonly #s: Summary = newSummary();
  #resolveEnded!: () => void;
  #phase: Phase = 'connecting';
  /** A step is scheduled. */
  #scheduled = false;
  /** The phase changed within a step: look again. */
  #moved = false;
  #watch: ChannelWatch | undefined;
  /** The A-leg must be hung up with this cause at the end (when still up). */
  #pendingHangup: string | null = null;
  #connected: ConnectResult | undefined;
  #setupReplies = 0;
  /** The first setup command that failed, as `name: code` (for `lost`). */
  #setupFailure: string | null = null;
  #failCode: CallErrorCode | null = null;
  /** The reply to the hangup or exit in flight. */
  #reply: CommandResult | undefined;
  #timer: unknown;
  #timedOut = false;
  // The decision and the attempts.
  /** The call's plan, once decided: its candidates are tried in order from `#next`. */
  #plan: CallPlan | undefined;
  #next = 0;
  #origid = '';
  #passport: SignedPassport | null = null;
  #lastBuildError: CallErrorCode | null = null;
  #aLegPrepared = false;
  #gaveUp = false;
  #attempt: Attempt | undefined;
  /** The identity of the attempt in flight (counted once FreeSWITCH has queued its bridge). */
  #identityPlan: IdentityPlan | undefined;

  constructor(shared: SessionShared, conn: OutboundConnection, ctx: SessionContext) {
    this.#shared = shared;
    this.#conn = conn;
    this.#acceptedAt = ctx.acceptedAt;
    this.#startedAt = safeNow(shared.deps.now);
    this.ended = new Promise((resolve) => {
      this.#resolveEnded = resolve;
    });
    conn.postConnect(shared.config.esl.connect_timeout_ms, this.#onConnect);
  }

  // --- inputs: each records what it says and schedules a step ------------------------------------------------

  readonly #onConnect = (result: ConnectResult): void => {
    this.#connected = result;
    this.#kick();
  };

  /** Replies come in the order the commands were written (SETUP_NAMES). */
  readonly #onSetupReply = (result: CommandResult): void => {
    const name = SETUP_NAMES[this.#setupReplies++];
    if (!result.ok && this.#setupFailure === null) this.#setupFailure = `${name}: ${result.code}`;
    this.#kick();
  };

  readonly #onPrepReply = (result: CommandResult): void => {
    if (this.#attempt) this.#attempt.prep = result;
    this.#kick();
  };

  readonly #onBridgeReply = (result: ExecuteResult): void => {
    if (this.#attempt) this.#attempt.bridge = result;
    this.#kick();
  };

  /** Runs when FreeSWITCH's reply to the bridge is read, before any later frame: what it knew then. */
  readonly #onBridgeRead = (): void => {
    if (this.#attempt) this.#attempt.goneBeforeBridgeRead = this.#watch?.aLegGone === true;
  };

  readonly #onReply = (result: CommandResult): void => {
    this.#reply = result;
    this.#kick();
  };

  readonly #onTimer = (): void => {
    this.#timer = undefined;
    this.#timedOut = true;
    this.#kick();
  };

  readonly #kick = (): void => {
    if (this.#scheduled || this.#phase === 'done') return;
    this.#scheduled = true;
    // After the current job: the rest of the chunk's frames are read first, as they were before an await resumed.
    process.nextTick(this.#run);
  };

  readonly #run = (): void => {
    this.#scheduled = false;
    try {
      do {
        this.#moved = false;
        this.#step();
      } while (this.#moved && this.#phase !== 'done');
    } catch (err) {
      this.#crash(err);
    }
  };

  #go(phase: Phase): void {
    this.#phase = phase;
    this.#moved = true;
  }

  /** Bounds the phase being entered; any earlier bound is dropped. */
  #bound(ms: number): void {
    this.#clearTimer();
    this.#timer = this.#shared.timers.setTimeout(this.#onTimer, ms);
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) this.#shared.timers.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timedOut = false;
  }

  // --- the steps ---------------------------------------------------------------------------------------------

  #step(): void {
    const w = this.#watch;
    switch (this.#phase) {
      case 'connecting': {
        const connected = this.#connected;
        if (connected === undefined) return;
        // Not kept: the connect reply's channel (100+ decoded headers) would stay for the whole call.
        this.#connected = undefined;
        return this.#connectedStep(connected);
      }
      case 'failing':
        if (this.#setupFailure !== null) return this.#lost(this.#setupFailure);
        if (this.#setupReplies < SETUP_NAMES.length) return;
        this.#fail(this.#failCode!);
        return this.#finish();
      case 'bridging':
        return this.#bridgingStep(this.#attempt!);
      case 'ringing': {
        const a = this.#attempt!;
        if (!this.#ringingOver(a, w!) && !this.#timedOut) return;
        this.#clearTimer();
        return this.#rang(a, w!);
      }
      case 'answered': {
        const a = this.#attempt!;
        const done = w!.completion(a.bridgeUuid);
        if (done === undefined && !w!.aLegGone && !w!.closed) return;
        if (done !== undefined && a.answered!.sipStatus === null) a.answered!.sipStatus = answerSipStatus(done.headers);
        this.#s.outcome = 'answered';
        return this.#finish();
      }
      case 'caller_gone': {
        const a = this.#attempt!;
        const done = w!.completion(a.bridgeUuid);
        if (done === undefined && !w!.hangupComplete && !w!.closed && !this.#timedOut) return;
        this.#clearTimer();
        // Hung up before the bridge ran (e.g. while its command was on the way): no carrier was tried, and
        // recording an attempt would blame one.
        if (done === undefined && w!.hangupComplete) return this.#afterAttempts();
        return this.#attemptFailed(a, w!);
      }
      case 'hanging_up':
        if (this.#reply !== undefined) this.#afterHangup();
        return;
      case 'hangup_wait':
        if (w!.hangupComplete || w!.closed || this.#timedOut) this.#exit();
        return;
      case 'exiting':
        if (this.#reply !== undefined) this.#close();
        return;
      case 'closing':
      case 'done':
        return;
    }
  }

  #connectedStep(connected: ConnectResult): void {
    const { config, deps } = this.#shared;
    const conn = this.#conn;
    const s = this.#s;
    // Read the few variables needed and let the connect reply's 100+ decoded headers go (nothing in this frame
    // keeps the channel): a bridged call holds its session for minutes (memory per lingering session).
    const input = connected.ok ? readChannelInput(connected.channel.variables, config.esl.variables) : undefined;
    const modeRefused = connected.ok ? socketModeRefusal(connected.channel.headers) : null;
    conn.releaseChannelData();
    if (!connected.ok) {
      this.#fail('esl_failure', `connect: ${connected.code}`);
      this.#pendingHangup = null;
      return this.#finish();
    }
    const uuid = connected.channel.uuid;
    if (!CHANNEL_UUID_RE.test(uuid)) {
      // Never put it in a command; a plain `sendmsg` hangup still targets this socket's own channel.
      this.#fail('invalid_channel_variable');
      return this.#finish();
    }
    s.callUuid = uuid;
    if (modeRefused !== null) {
      // Without `full` the switch refuses linger and event (the bridge would still run, unobserved); without
      // `async` a queued bridge blocks the socket until it ends (NOTES §1). Nothing is sent but the hangup.
      if (input!.ok) {
        s.campaignId = input!.value.campaignId;
        s.leadId = input!.value.leadId;
      }
      s.warnings.push({
        msg: 'the socket app must run with "async full" (<action application="socket" data="host:port async full"/>)',
        fields: modeRefused,
      });
      this.#fail('socket_mode_unsupported');
      return this.#finish();
    }
    this.#watch = new ChannelWatch(conn, uuid, deps.now, this.#kick);
    // The watch follows every event as it arrives; the connection's look-back backlog would only hold memory.
    conn.keepEventBacklog(0);

    // Subscribe now but do not wait: the decision needs no reply, and the first attempt's multiset and bridge
    // are issued in this same tick, so linger, filter, event, multiset and bridge leave in ONE write and the
    // call costs two round trips (connect; the rest). FreeSWITCH runs them in order: the events are subscribed
    // before the bridge runs.
    const { cmdTimeout } = this.#shared;
    conn.post(this.#shared.lingerCommand, cmdTimeout, this.#onSetupReply);
    conn.post(prepareCommand('filter', ['Unique-ID', uuid]), cmdTimeout, this.#onSetupReply);
    for (const filter of this.#shared.unreadAppFilters) conn.post(filter, cmdTimeout, this.#onSetupReply);
    conn.post(this.#shared.eventCommand, cmdTimeout, this.#onSetupReply);

    if (!input!.ok) return this.#failAfterSetup(input!.code);
    const value = input!.value;
    s.campaignId = value.campaignId;
    s.leadId = value.leadId;
    s.tenantId = value.claimedTenantId ?? null;

    const t0 = deps.now();
    const lookup = deps.plan(value);
    s.decisionMs = deps.now() - t0;
    deps.metrics.observeDecision(s.decisionMs / 1000);
    if (!lookup.ok) return this.#failAfterSetup(lookup.code);
    const { decision, candidates } = lookup.plan;
    s.tenantId = decision.tenantId ?? s.tenantId;
    if (decision.forcedCarrier !== null) {
      // The ID is raw campaign metadata (not validated when the carrier is not found): bound what it adds to
      // every log line of the campaign's calls, as the per-call logger bounds the other IDs.
      const id = decision.forcedCarrier.carrierId;
      s.forcedCarrier = { carrier_id: id === null ? null : id.slice(0, LOGGED_ID_MAX), outcome: decision.forcedCarrier.outcome };
      if (decision.forcedCarrier.outcome !== 'used') {
        deps.metrics.forcedCarrierFallback(decision.forcedCarrier.outcome as CarrierRejectReason);
        s.warnings.push({ msg: 'forced carrier not used; fell back to routes', fields: { forced_carrier: s.forcedCarrier } });
      }
    }
    if (decision.error !== null) return this.#failAfterSetup(decision.error.code);
    s.decisionSource = decision.source;
    if (decision.source !== null) deps.metrics.routeDecision(decision.source);
    s.candidates = candidates.map((c) => c.candidate.carrierName);
    for (const pc of candidates) {
      for (const p of pc.identity.problems) {
        s.warnings.push({ msg: 'carrier identity column unusable; default used', fields: { carrier: pc.candidate.carrierName, field: p.field, problem: p.code, fallback: p.fallback } });
      }
    }
    this.#plan = lookup.plan;
    // The origid goes into a PASSporT only: a call that signs none makes no UUID for it.
    if (candidates.some((pc) => pc.identity.mode === 'passport')) this.#origid = deps.newUuid();
    this.#nextAttempt();
  }

  /** Ends the call with `code` once the setup is known good (or as lost when it is not). */
  #failAfterSetup(code: CallErrorCode): void {
    this.#failCode = code;
    this.#go('failing');
  }

  /** Sends the next candidate's bridge, or ends the attempts. */
  #nextAttempt(): void {
    const { config, deps } = this.#shared;
    const conn = this.#conn;
    const w = this.#watch!;
    const s = this.#s;
    const { decision, candidates, names } = this.#plan!;
    while (this.#next < candidates.length) {
      const pc = candidates[this.#next++]!;
      if (w.aLegGone) break;
      // Closed before this attempt could be sent (e.g. broken in the same read as the connect reply): a session
      // failure — or the caller, if the switch said so first — never a routing outcome.
      if (w.closed || conn.isClosed) return this.#lost('connection closed before the bridge');
      const { candidate } = pc;
      const identity = identityForCandidate({
        plan: pc.identity, keys: deps.keys, tenantId: decision.tenantId, origTn: decision.callerId ?? '',
        destTn: decision.destination ?? '', nowMs: deps.now(), origid: this.#origid, reuse: this.#passport,
      });
      if (!identity.ok) {
        s.skippedCandidates.push({ carrier: candidate.carrierName, code: identity.code });
        this.#lastBuildError = identity.code;
        continue;
      }
      this.#passport = identity.passport ?? this.#passport;
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
        this.#lastBuildError = args.code;
        continue;
      }
      if (args.callerIdNameFallback !== null) {
        s.warnings.push({ msg: 'caller ID name not usable; the number is shown', fields: { carrier: candidate.carrierName, reason: args.callerIdNameFallback } });
      }
      s.identity ??= identityLogFields(identity.plan);
      this.#identityPlan = identity.plan;

      const sentAt = deps.now();
      if (s.setupMs === null) {
        s.setupMs = sentAt - this.#acceptedAt;
        deps.metrics.observeSetup(s.setupMs / 1000);
      }
      const attempt: Attempt = {
        candidate, first: s.attempts.length === 0, sentAt, timing: w.beginAttempt(), bridgeUuid: '',
        goneBeforeBridgeRead: false, prep: undefined, bridge: undefined, answered: undefined,
      };
      this.#attempt = attempt;
      // The A-leg variables and the bridge in one write (FreeSWITCH runs queued apps in order; the previous
      // bridge, if any, has completed, so nothing runs nested inside a bridge — NOTES §4).
      const { cmdTimeout } = this.#shared;
      conn.postPrepared(this.#aLegPrepared ? this.#shared.resetMultiset : this.#shared.aLegMultiset, cmdTimeout, this.#onPrepReply);
      this.#aLegPrepared = true;
      attempt.bridgeUuid = conn.postExecute('bridge', args.arg, cmdTimeout, this.#onBridgeReply, this.#onBridgeRead);
      this.#go('bridging');
      return;
    }
    this.#afterAttempts();
  }

  #bridgingStep(a: Attempt): void {
    if (a.first) {
      if (this.#setupFailure !== null) return this.#lost(this.#setupFailure);
      if (this.#setupReplies < SETUP_NAMES.length) return;
    }
    if (a.prep === undefined) return;
    if (!a.prep.ok) return this.#lost(`multiset: ${a.prep.code}`);
    if (a.bridge === undefined) return;
    if (!a.bridge.ok) return this.#lost(`bridge: ${a.bridge.code}`);
    // FreeSWITCH answers a command after the hangup it has already reported, and never runs an app queued
    // then (NOTES §4): no carrier was tried, so no attempt is recorded (it would blame the carrier).
    if (a.goneBeforeBridgeRead) return this.#afterAttempts();
    const plan = this.#identityPlan!;
    if (plan.level !== null) this.#shared.deps.metrics.attestation(plan.level, plan.mode, plan.downgraded);
    this.#go('ringing');
    // Not when the ringing is already over (the answer or the failure read in the same chunk as the bridge's
    // reply): a timer made only to be cleared in the next step costs more than the check.
    if (!this.#ringingOver(a, this.#watch!)) this.#bound(this.#shared.attemptBoundMs);
  }

  /** The attempt stopped ringing: its completion, CHANNEL_BRIDGE, the caller's hangup or the close has come. */
  #ringingOver(a: Attempt, w: ChannelWatch): boolean {
    return w.completion(a.bridgeUuid) !== undefined || a.timing.bridgedAt !== null || w.aLegGone || w.closed;
  }

  /** The ringing ended: answered, the caller gone, the bridge completed, the bound reached or the socket closed. */
  #rang(a: Attempt, w: ChannelWatch): void {
    const { deps } = this.#shared;
    const s = this.#s;
    const done = w.completion(a.bridgeUuid);
    if (a.timing.bridgedAt !== null || isAnsweredDisposition(done)) {
      // The A-leg is answered when the carrier leg is bridged to it: CHANNEL_BRIDGE is the answer time.
      const answerAt = a.timing.bridgedAt ?? deps.now();
      const answerDelayMs = Math.max(0, answerAt - a.sentAt);
      deps.metrics.observeAnswerDelay(a.candidate.carrierName, answerDelayMs / 1000);
      const attempt = readAttempt(done?.headers, this.#attemptContext(a, answerDelayMs, true, answerDelayMs));
      s.attempts.push(attempt);
      deps.metrics.bridgeAttempt(a.candidate.carrierName, attempt.result);
      a.answered = attempt;
      // The call is up: it ends when a party hangs up (hangup_after_bridge) or the socket closes.
      return this.#go('answered');
    }
    if (done === undefined && w.aLegGone) {
      // The caller hung up while it rang: wait briefly for the bridge's own completion to record its cause.
      // (It comes before CHANNEL_HANGUP_COMPLETE when the bridge ran; a bridge queued after the hangup never runs.)
      this.#go('caller_gone');
      return this.#bound(this.#shared.hangupWaitMs);
    }
    this.#attemptFailed(a, w);
  }

  /** Who the attempt was for and how long it took (one literal: no spread of a base object per attempt). */
  #attemptContext(a: Attempt, durationMs: number, answered: boolean, answerDelayMs: number | null): AttemptContext {
    const c = a.candidate;
    return { attempt: this.#s.attempts.length + 1, carrierId: c.carrierId, carrierName: c.carrierName, routeId: c.routeId, durationMs, answered, answerDelayMs };
  }

  /** An attempt that was not answered: record it, then fail over or stop. */
  #attemptFailed(a: Attempt, w: ChannelWatch): void {
    const { deps } = this.#shared;
    const s = this.#s;
    const done = w.completion(a.bridgeUuid);
    if (done === undefined && !w.aLegGone && !w.closed) this.#gaveUp = true;
    const attempt = readAttempt(done?.headers, this.#attemptContext(a, Math.max(0, deps.now() - a.sentAt), false, null),
      this.#gaveUp ? 'ALLOTTED_TIMEOUT' : w.aLegGone ? 'ORIGINATOR_CANCEL' : null);
    s.attempts.push(attempt);
    deps.metrics.bridgeAttempt(a.candidate.carrierName, attempt.result);
    if (w.closed && !w.aLegGone) return this.#lost('connection closed during the bridge');
    if (this.#gaveUp) {
      s.warnings.push({ msg: 'bridge did not complete within the attempt bound; hanging up', fields: { carrier: a.candidate.carrierName, bound_ms: this.#shared.attemptBoundMs } });
      return this.#afterAttempts();
    }
    const verdict = shouldFailover(attempt, this.#shared.policy, w.aLegGone);
    if (!verdict.failover) return this.#afterAttempts();
    deps.metrics.failover(a.candidate.carrierName);
    this.#nextAttempt();
  }

  #afterAttempts(): void {
    const s = this.#s;
    const w = this.#watch!;
    if (s.attempts.length === 0) {
      if (w.aLegGone) this.#callerGone();
      else this.#fail(this.#lastBuildError ?? 'no_route');
      return this.#finish();
    }
    s.callerHungUp = w.aLegGone;
    s.outcome = outcomeForAttempts(s.attempts, s.callerHungUp);
    this.#pendingHangup = this.#gaveUp ? 'ALLOTTED_TIMEOUT' : hangupCauseForAttempts(s.attempts);
    this.#finish();
  }

  #fail(code: CallErrorCode, detail?: string): void {
    const s = this.#s;
    s.code = code;
    s.outcome = outcomeForError(code);
    if (code === 'esl_failure' && detail !== undefined) s.eslDetail = detail;
    this.#pendingHangup = hangupCauseFor(code, this.#shared.config.routing.hangup_causes);
  }

  /**
   * The connection failed mid-call. A close preceded by FreeSWITCH's own disconnect notice (without linger it
   * sends one when the channel hangs up) or by a linger notice means the caller hung up; otherwise it is a
   * session failure (TCP dropped, a command timed out, a setup command refused).
   */
  #lost(detail: string): void {
    if (this.#watch?.aLegGone === true || this.#conn.notices.some((n) => n.disposition === 'disconnect' || n.disposition === 'linger')) {
      this.#callerGone();
    } else {
      this.#fail('esl_failure', detail);
    }
    this.#finish();
  }

  #callerGone(): void {
    this.#s.callerHungUp = true;
    this.#s.outcome = 'caller_hangup';
  }

  // --- the end: hang up if needed, wait for CHANNEL_HANGUP_COMPLETE (bounded), exit, close -------------------

  #finish(): void {
    this.#clearTimer();
    const conn = this.#conn;
    if (conn.isClosed) return this.#close();
    const w = this.#watch;
    const aLegUp = w === undefined ? true : !w.aLegGone;
    if (this.#pendingHangup !== null && aLegUp) {
      this.#s.hangupCause = this.#pendingHangup;
      this.#reply = undefined;
      this.#go('hanging_up');
      conn.postHangup(this.#pendingHangup, this.#shared.cmdTimeout, this.#onReply);
      return;
    }
    this.#afterHangup();
  }

  #afterHangup(): void {
    const w = this.#watch;
    if (w !== undefined && (this.#s.hangupCause !== null || w.aLegGone) && !w.hangupComplete && !w.closed) {
      // On the real switch the linger notice can come before CHANNEL_HANGUP_COMPLETE: wait for the event.
      this.#go('hangup_wait');
      return this.#bound(this.#shared.hangupWaitMs);
    }
    this.#exit();
  }

  #exit(): void {
    this.#clearTimer();
    if (this.#conn.isClosed) return this.#close();
    this.#reply = undefined;
    this.#go('exiting');
    this.#conn.postExit(this.#shared.cmdTimeout, this.#onReply);
  }

  #close(): void {
    this.#go('closing');
    this.#conn.onClosed(this.#onConnClosed);
    this.#conn.shut(this.#shared.cmdTimeout);
  }

  readonly #onConnClosed = (): void => {
    this.#end();
  };

  /** An unexpected exception: the call ends as `internal_error` (or, in the end sequence, is cut). */
  #crash(err: unknown): void {
    const s = this.#s;
    const ending = this.#phase === 'hanging_up' || this.#phase === 'hangup_wait' || this.#phase === 'exiting' || this.#phase === 'closing';
    if (!ending && this.#phase !== 'done') {
      s.error = err;
      this.#fail('internal_error');
      try {
        this.#finish();
        return;
      } catch (again) {
        err = again;
      }
    }
    s.error ??= err;
    this.#conn.destroy('session cleanup failed');
    this.#end();
  }

  #end(): void {
    if (this.#phase === 'done') return;
    this.#phase = 'done';
    this.#clearTimer();
    this.#watch?.dispose();
    const conn = this.#conn;
    if (!conn.isClosed) conn.destroy('session ended');
    const s = this.#s;
    if (s.code !== 'esl_failure') return this.#report();
    // The failing command only saw `closed`; the connection knows why (a stall, garbage, an oversized frame).
    // It is closed or destroyed by now, so this runs at once or when the socket's close comes.
    conn.onClosed((info) => {
      s.eslClose = { reason: info.reason, detail: info.detail };
      this.#report();
    });
  }

  #report(): void {
    reportCall(this.#shared.deps, this.#s, this.#startedAt);
    this.#resolveEnded();
  }
}

function isAnsweredDisposition(event: EslEvent | undefined): boolean {
  const d = event?.headers.get('variable_originate_disposition');
  return d === 'SUCCESS' || d === 'call accepted';
}
