/**
 * One outbound event socket session: FreeSWITCH connected to us for one call; we drive it.
 *
 * Contract:
 * - Commands are PIPELINED: each is written at once (those issued in the same tick leave in one write, one
 *   syscall) and replies are matched to them in FIFO order — FreeSWITCH reads a socket's commands one after the
 *   other and answers each in turn (mod_event_socket's read loop), so the protocol allows it and a call's setup
 *   needs one round trip instead of five. Every command has an explicit timeout. A timeout of any command
 *   awaiting its reply, an unexpected reply, an undecodable event or a framing error POISONS the connection: it
 *   is destroyed, so a late reply can never be matched to the wrong command.
 * - Every command has a promise form and a callback form (`post*`, what the call session uses); the promise
 *   resolves (never rejects) and the callback runs once, each with a value carrying a stable `code` on failure.
 * - A peer that sends nothing before the connect reply, or stalls mid-frame, for `connectTimeoutMs` is closed.
 * - After close, no timer or socket listener of ours remains, and pending work resolves with `closed`.
 * - A throwing listener is reported through `onListenerError` and never escapes.
 */
import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import { buildCommand, buildExecute, buildHangup, type BuiltFrame, type EslCommandName } from './command.js';
import {
  decodeHeaders,
  parseChannelData,
  parseJsonEventBody,
  parsePlainEventBody,
  type ChannelData,
  type EslEvent,
} from './channel-data.js';
import { FrameParser, type EslFrame } from './frame-parser.js';
import { replyAnswers, replyShapeOf, type ReplyShape } from './replies.js';

/** Stable failure codes of connection operations. */
export type EslFailureCode =
  | 'timeout' // no reply / event within the bound
  | 'closed' // the connection closed (or was poisoned) before an answer
  | 'protocol_error' // the peer broke the protocol (or the call was out of order, e.g. a second connect)
  | 'unsafe_command' // refused by the command builder: nothing was written
  | 'frame_too_large' // the peer sent a frame over maxFrameBytes
  | 'command_failed'; // FreeSWITCH answered `-ERR ...`

/** Why the connection closed. */
export type CloseReason =
  | 'remote_closed' // FreeSWITCH closed the socket
  | 'closed' // close() by us
  | 'destroyed' // destroy() by us
  | 'timeout' // the command in flight, the connect reply or a frame stalled
  | 'protocol_error'
  | 'frame_too_large'
  | 'socket_error';

export interface CloseInfo {
  readonly reason: CloseReason;
  readonly detail: string | undefined;
  /** A `text/disconnect-notice` with `Content-Disposition: disconnect` was received before the close. */
  readonly disconnectNotice: boolean;
}

/** A `text/disconnect-notice` frame. */
export interface DisconnectNotice {
  /** `linger` (the channel hung up; the socket stays for Linger-Time) or `disconnect` (the socket is closing). */
  readonly disposition: string;
  /** `Linger-Time` in seconds: -1 for bare `linger` (forever), undefined when absent. */
  readonly lingerSeconds: number | undefined;
  readonly headers: ReadonlyMap<string, string>;
}

export type ConnectResult =
  | { readonly ok: true; readonly channel: ChannelData }
  | { readonly ok: false; readonly code: EslFailureCode; readonly detail?: string };

export type CommandResult =
  | { readonly ok: true; readonly replyText: string }
  | { readonly ok: false; readonly code: EslFailureCode; readonly replyText?: string; readonly detail?: string };

export type ExecuteResult =
  | { readonly ok: true; readonly eventUuid: string; readonly replyText: string }
  | { readonly ok: false; readonly code: EslFailureCode; readonly eventUuid: string; readonly replyText?: string; readonly detail?: string };

export type EventWaitResult =
  | { readonly ok: true; readonly event: EslEvent }
  | { readonly ok: false; readonly code: 'timeout' | 'closed' };

export type NoticeWaitResult =
  | { readonly ok: true; readonly notice: DisconnectNotice }
  | { readonly ok: false; readonly code: 'timeout' | 'closed' };

/** Injected timers (tests count them; production uses the globals). */
export interface EslTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const DEFAULT_TIMERS: EslTimers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export interface OutboundConnectionOptions {
  /** Largest header block / body accepted from FreeSWITCH (config `esl.max_frame_bytes`). */
  readonly maxFrameBytes: number;
  /** Bound on silence before the connect reply, and on a stalled partial frame (config `esl.connect_timeout_ms`). */
  readonly connectTimeoutMs: number;
  /** Default per-command timeout when a call passes none (config `esl.command_timeout_ms`). */
  readonly commandTimeoutMs: number;
  /** How many recent events are kept for `waitForEvent` look-back (default 16). */
  readonly eventBacklog?: number;
  readonly timers?: EslTimers;
  /** Called with anything a listener or predicate throws (default: ignored). */
  readonly onListenerError?: (err: unknown) => void;
  /** Event-UUID generator for `execute` (default crypto.randomUUID). */
  readonly newUuid?: () => string;
}

interface PendingCommand {
  /** What its reply must look like; null for `connect` (answered by the channel dump). */
  readonly shape: ReplyShape | null;
  readonly onReply: (() => void) | undefined;
  /** Gets the command's result (a ConnectResult for `connect`); runs synchronously, guarded. */
  readonly done: (result: CommandResult | ConnectResult) => void;
  readonly deadline: ReplyDeadline;
}

/**
 * One timer for the commands written together with the same timeout (a call's setup batch): they share a
 * deadline, so one timer bounds them all; it is cleared when the last of them is answered.
 */
interface ReplyDeadline {
  readonly timeoutMs: number;
  timer: unknown;
  awaiting: number;
}

interface EventWaiter {
  readonly predicate: (event: EslEvent) => boolean;
  readonly afterSeq: number;
  readonly resolve: (result: EventWaitResult) => void;
  timer: unknown;
}

interface NoticeWaiter {
  readonly disposition: string | undefined;
  readonly resolve: (result: NoticeWaitResult) => void;
  timer: unknown;
}

const EMPTY_MAP: ReadonlyMap<string, string> = new Map();
/** The deadline of a connect the connect timer bounds no later than its own would: one timer per call, not two. */
const CONNECT_TIMER_BOUNDS: ReplyDeadline = { timeoutMs: 0, timer: undefined, awaiting: 0 };
/** Built once: every session sends them. */
const CONNECT_FRAME = buildCommand('connect');
const EXIT_FRAME = buildCommand('exit');

/**
 * A control command built once, ahead of the sessions that send it (`prepareCommand`): a command every call sends
 * the same (`linger 20`, `event json ...`) is validated and encoded once, not per call.
 */
export interface PreparedCommand {
  readonly name: Exclude<EslCommandName, 'connect' | 'sendmsg'>;
  readonly built: BuiltFrame;
}

/** Builds `name args` once for `OutboundConnection.send` (refused frames stay refused: `send` reports them). */
export function prepareCommand(name: Exclude<EslCommandName, 'connect' | 'sendmsg'>, args: readonly string[] = []): PreparedCommand {
  return { name, built: buildCommand(name, args) };
}

/**
 * An `execute` built once without an Event-UUID (`prepareExecute`): for an app every call queues the same and
 * whose completion nobody waits for (the A-leg `multiset`), so it is neither rebuilt nor tagged per call.
 */
export interface PreparedExecute {
  readonly built: BuiltFrame;
}

/** Builds `sendmsg` executing `app` with `arg` once, for `OutboundConnection.postPrepared`. */
export function prepareExecute(app: string, arg: string | undefined): PreparedExecute {
  return { built: buildExecute(app, arg, undefined) };
}

const SENDMSG_REPLY = replyShapeOf('sendmsg');
const EXIT_REPLY = replyShapeOf('exit');

/** Wraps one accepted socket. Construct it, then call `connect()` first. */
export class OutboundConnection {
  readonly #socket: Socket;
  readonly #timers: EslTimers;
  readonly #parser: FrameParser;
  readonly #opts: OutboundConnectionOptions;
  #backlogSize: number;
  readonly #newUuid: () => string;
  #connectSent = false;
  #channel: ChannelData | undefined;
  /** Written, awaiting their replies, oldest first. */
  #inflight: PendingCommand[] = [];
  /** Frames written in this tick, sent together when it ends ('' when none are waiting). */
  #outgoing = '';
  /** The deadline of the frames waiting in #outgoing: the commands among them with the same timeout share it. */
  #openDeadline: ReplyDeadline | undefined;
  #seq = 0;
  #backlog: EslEvent[] = [];
  #eventListeners = new Set<(event: EslEvent) => void>();
  #noticeListeners = new Set<(notice: DisconnectNotice) => void>();
  #eventWaiters = new Set<EventWaiter>();
  #noticeWaiters = new Set<NoticeWaiter>();
  #notices: DisconnectNotice[] = [];
  #connectTimer: unknown;
  #stallTimer: unknown;
  #closeInfo: CloseInfo | undefined;
  #pendingClose: { reason: CloseReason; detail: string | undefined } | undefined;
  /** Run once, synchronously, when the connection has closed (`onClosed`). */
  #closeListeners: Array<(info: CloseInfo) => void> = [];
  /** Made on first use: a session driven by callbacks never needs it. */
  #closedPromise: Promise<CloseInfo> | undefined;
  #gracefulTimer: unknown;
  #closing = false;

  constructor(socket: Socket, options: OutboundConnectionOptions) {
    this.#socket = socket;
    this.#opts = options;
    this.#timers = options.timers ?? DEFAULT_TIMERS;
    this.#backlogSize = options.eventBacklog ?? 16;
    this.#newUuid = options.newUuid ?? randomUUID;
    this.#parser = new FrameParser({ maxFrameBytes: options.maxFrameBytes });
    socket.on('data', this.#onData);
    socket.on('error', this.#onError);
    socket.on('close', this.#onClose);
    this.#connectTimer = this.#timers.setTimeout(() => {
      this.#connectTimer = undefined;
      if (!this.#channel) this.#abort('timeout', 'no connect reply in time');
    }, options.connectTimeoutMs);
    if (socket.destroyed) this.#abort('remote_closed', 'socket already closed');
  }

  /** Resolves once, when the socket has closed and everything is cleaned up. */
  get closed(): Promise<CloseInfo> {
    if (this.#closedPromise === undefined) {
      const info = this.#closeInfo;
      this.#closedPromise = info !== undefined ? Promise.resolve(info) : new Promise((resolve) => this.#closeListeners.push(resolve));
    }
    return this.#closedPromise;
  }

  /** The channel from the connect reply (undefined before it). */
  get channel(): ChannelData | undefined {
    return this.#channel;
  }

  /** Sequence number of the last event received (0 before any): pass it as `afterSeq` to wait for later events only. */
  get eventSeq(): number {
    return this.#seq;
  }

  /** True once closed or closing. */
  get isClosed(): boolean {
    return this.#closing || this.#closeInfo !== undefined || this.#pendingClose !== undefined;
  }

  /** Notices received so far (linger, then disconnect), oldest first. */
  get notices(): readonly DisconnectNotice[] {
    return this.#notices;
  }

  /** Peer address as seen on the socket. */
  get remoteAddress(): string | undefined {
    return this.#socket.remoteAddress;
  }

  /**
   * Sets how many recent events `waitForEvent` can look back at (0 = none) and trims the backlog now. A consumer
   * that follows every event through `onEvent` calls `keepEventBacklog(0)`, so a long-lived session does not
   * hold its last events (each carries the whole channel, ~5 KB) for nothing.
   */
  keepEventBacklog(size: number): void {
    this.#backlogSize = Math.max(0, Math.floor(size));
    if (this.#backlog.length > this.#backlogSize) this.#backlog = this.#backlog.slice(this.#backlog.length - this.#backlogSize);
  }

  /**
   * Drops the connect reply's decoded headers and variables (100+ entries) once the consumer has read what it
   * needs; `channel` keeps the uuid, with empty maps. Saves memory for every session that stays up for the call.
   */
  releaseChannelData(): void {
    if (this.#channel) this.#channel = { uuid: this.#channel.uuid, variables: EMPTY_MAP, headers: EMPTY_MAP };
  }

  /** Sends `connect` (must be the first command) and returns the decoded channel. */
  connect(timeoutMs: number = this.#opts.commandTimeoutMs): Promise<ConnectResult> {
    return new Promise((resolve) => this.postConnect(timeoutMs, resolve));
  }

  /**
   * Sends a control command (`linger 20`, `myevents json`, `event json CHANNEL_HANGUP_COMPLETE`, `filter
   * Unique-ID <uuid>`, `nolinger`, `resume`, `exit`...) and resolves with FreeSWITCH's Reply-Text. A `-ERR`
   * reply is `{ok:false, code:'command_failed', replyText}` (the connection stays usable).
   */
  command(name: Exclude<EslCommandName, 'connect' | 'sendmsg'>, args: readonly string[] = [], timeoutMs: number = this.#opts.commandTimeoutMs): Promise<CommandResult> {
    return this.send(prepareCommand(name, args), timeoutMs);
  }

  /** `command` for a command built ahead with `prepareCommand`. */
  send(prepared: PreparedCommand, timeoutMs: number = this.#opts.commandTimeoutMs): Promise<CommandResult> {
    return new Promise((resolve) => this.post(prepared, timeoutMs, resolve));
  }

  /**
   * Queues dialplan app `app` with `arg` on the channel and resolves when FreeSWITCH answers `+OK` (QUEUED, not
   * done). The returned `eventUuid` is the `Application-UUID` of the app's CHANNEL_EXECUTE_COMPLETE — await it
   * with `waitForExecuteComplete`. Take `eventSeq` before calling if you also wait for other events.
   * `onReply` runs synchronously when the reply arrives, before any later frame is handled: what is known then
   * (e.g. that the channel already hung up) was known to FreeSWITCH before it read this command.
   */
  execute(app: string, arg: string | undefined, options: { timeoutMs?: number; onReply?: () => void } = {}): Promise<ExecuteResult> {
    return new Promise((resolve) => this.postExecute(app, arg, options.timeoutMs ?? this.#opts.commandTimeoutMs, resolve, options.onReply));
  }

  /** `sendmsg` hangup with `cause`; resolves on FreeSWITCH's reply. */
  hangup(cause: string, timeoutMs: number = this.#opts.commandTimeoutMs): Promise<CommandResult> {
    return new Promise((resolve) => this.postHangup(cause, timeoutMs, resolve));
  }

  /** Sends `exit` (FreeSWITCH answers `+OK bye`, sends the disconnect notice and closes). */
  exit(timeoutMs: number = this.#opts.commandTimeoutMs): Promise<CommandResult> {
    return new Promise((resolve) => this.postExit(timeoutMs, resolve));
  }

  // The callback forms: what a session driven as a state machine uses (a promise and its reactions per command
  // are what the session no longer pays for). `done` runs synchronously — when the reply is matched, when the
  // connection fails the command, or at once from the call itself when the frame is refused or the connection
  // is closed — and a throw from it is reported through `onListenerError`, never raised.

  /** Callback form of `connect`. */
  postConnect(timeoutMs: number, done: (result: ConnectResult) => void): void {
    if (this.#connectSent) return this.#guarded(done, { ok: false, code: 'protocol_error', detail: 'connect already sent' });
    this.#connectSent = true;
    // The connect timer fires first (or together, and it was set first): the silence ends the same way.
    const bounded = this.#connectTimer !== undefined && timeoutMs >= this.#opts.connectTimeoutMs;
    this.#post(CONNECT_FRAME, null, timeoutMs, done, undefined, bounded ? CONNECT_TIMER_BOUNDS : undefined);
  }

  /** Callback form of `send`. */
  post(prepared: PreparedCommand, timeoutMs: number, done: (result: CommandResult) => void): void {
    this.#post(prepared.built, replyShapeOf(prepared.name), timeoutMs, done, undefined);
  }

  /** Callback form of `execute`; returns the command's `eventUuid`. */
  postExecute(app: string, arg: string | undefined, timeoutMs: number, done: (result: ExecuteResult) => void, onReply?: () => void): string {
    const eventUuid = this.#newUuid();
    const built = buildExecute(app, arg, eventUuid);
    const withUuid = (r: CommandResult): void => done(r.ok ? { ok: true, eventUuid, replyText: r.replyText } : { ...r, eventUuid });
    this.#post(built, SENDMSG_REPLY, timeoutMs, withUuid, onReply);
    return eventUuid;
  }

  /** Queues an execute built with `prepareExecute`; `done` gets FreeSWITCH's reply (QUEUED, not done). */
  postPrepared(prepared: PreparedExecute, timeoutMs: number, done: (result: CommandResult) => void): void {
    this.#post(prepared.built, SENDMSG_REPLY, timeoutMs, done, undefined);
  }

  /** Callback form of `hangup`. */
  postHangup(cause: string, timeoutMs: number, done: (result: CommandResult) => void): void {
    this.#post(buildHangup(cause), SENDMSG_REPLY, timeoutMs, done, undefined);
  }

  /** Callback form of `exit`. */
  postExit(timeoutMs: number, done: (result: CommandResult) => void): void {
    this.#post(EXIT_FRAME, EXIT_REPLY, timeoutMs, done, undefined);
  }

  /**
   * Runs `listener` once, synchronously, when the connection has closed and everything is cleaned up (at once if
   * it already has). A throw is reported through `onListenerError`.
   */
  onClosed(listener: (info: CloseInfo) => void): void {
    const info = this.#closeInfo;
    if (info !== undefined) this.#call(() => listener(info));
    else this.#closeListeners.push(listener);
  }

  /**
   * Resolves with the first event matching `predicate` — looking first at the recent backlog (events with
   * `seq > afterSeq`; default: the whole backlog), then at events still to come — or `timeout` / `closed`.
   */
  waitForEvent(predicate: (event: EslEvent) => boolean, timeoutMs: number, options: { afterSeq?: number } = {}): Promise<EventWaitResult> {
    const afterSeq = options.afterSeq ?? 0;
    for (const event of this.#backlog) {
      if (event.seq > afterSeq && this.#test(predicate, event)) return Promise.resolve({ ok: true, event });
    }
    if (this.isClosed) return Promise.resolve({ ok: false, code: 'closed' });
    return new Promise((resolve) => {
      const waiter: EventWaiter = { predicate, afterSeq, resolve, timer: undefined };
      waiter.timer = this.#timers.setTimeout(() => {
        this.#eventWaiters.delete(waiter);
        resolve({ ok: false, code: 'timeout' });
      }, timeoutMs);
      this.#eventWaiters.add(waiter);
    });
  }

  /** Waits for the CHANNEL_EXECUTE_COMPLETE whose `Application-UUID` is `eventUuid` (see `execute`). */
  waitForExecuteComplete(eventUuid: string, timeoutMs: number): Promise<EventWaitResult> {
    return this.waitForEvent(
      (e) => e.name === 'CHANNEL_EXECUTE_COMPLETE' && e.headers.get('Application-UUID') === eventUuid,
      timeoutMs,
    );
  }

  /** Waits for a disconnect notice (of `disposition` if given), including one already received. */
  waitForNotice(disposition: 'linger' | 'disconnect' | undefined, timeoutMs: number): Promise<NoticeWaitResult> {
    const seen = this.#notices.find((n) => disposition === undefined || n.disposition === disposition);
    if (seen) return Promise.resolve({ ok: true, notice: seen });
    if (this.isClosed) return Promise.resolve({ ok: false, code: 'closed' });
    return new Promise((resolve) => {
      const waiter: NoticeWaiter = { disposition, resolve, timer: undefined };
      waiter.timer = this.#timers.setTimeout(() => {
        this.#noticeWaiters.delete(waiter);
        resolve({ ok: false, code: 'timeout' });
      }, timeoutMs);
      this.#noticeWaiters.add(waiter);
    });
  }

  /** Subscribes to every event; returns the unsubscribe function. Listeners run synchronously per frame. */
  onEvent(listener: (event: EslEvent) => void): () => void {
    this.#eventListeners.add(listener);
    return () => this.#eventListeners.delete(listener);
  }

  /** Subscribes to disconnect notices; returns the unsubscribe function. */
  onNotice(listener: (notice: DisconnectNotice) => void): () => void {
    this.#noticeListeners.add(listener);
    return () => this.#noticeListeners.delete(listener);
  }

  /**
   * Graceful end: half-closes our side (FIN) and waits up to `timeoutMs` for FreeSWITCH to close, then destroys.
   * Send `exit` first if the dialplan should not continue. Idempotent.
   */
  close(timeoutMs: number = this.#opts.commandTimeoutMs): Promise<CloseInfo> {
    this.shut(timeoutMs);
    return this.closed;
  }

  /** `close` without its promise: follow the end with `onClosed`. Idempotent. */
  shut(timeoutMs: number = this.#opts.commandTimeoutMs): void {
    if (this.isClosed) return;
    this.#closing = true;
    this.#failPending('closed', 'closing');
    this.#resolveWaiters();
    // What was written this tick leaves before our FIN, as it would have if written at once.
    this.#flush();
    this.#socket.end();
    this.#gracefulTimer = this.#timers.setTimeout(() => {
      this.#gracefulTimer = undefined;
      this.#abort('closed', 'peer did not close in time');
    }, timeoutMs);
  }

  /** Abrupt end: destroys the socket now; pending work resolves `closed`. Idempotent. */
  destroy(detail?: string): void {
    this.#abort('destroyed', detail);
  }

  // --- internals -------------------------------------------------------------------------------------------

  /** `done` gets a ConnectResult when `shape` is null (connect), a CommandResult otherwise. */
  #post<R extends CommandResult | ConnectResult>(
    built: BuiltFrame, shape: ReplyShape | null, timeoutMs: number, done: (result: R) => void, onReply: (() => void) | undefined,
    deadline?: ReplyDeadline,
  ): void {
    if (!built.ok) return this.#guarded(done, { ok: false, code: built.code, detail: built.reason } as R);
    if (this.isClosed) return this.#guarded(done, { ok: false, code: 'closed' } as R);
    this.#write(built.frame);
    this.#inflight.push({ shape, onReply, done: done as PendingCommand['done'], deadline: deadline ?? this.#deadlineFor(timeoutMs) });
  }

  #guarded<R>(done: (result: R) => void, result: R): void {
    try {
      done(result);
    } catch (err) {
      this.#report(err);
    }
  }

  /** The reply deadline of a command written now: shared with the other commands of this write, if any. */
  #deadlineFor(timeoutMs: number): ReplyDeadline {
    const open = this.#openDeadline;
    if (open !== undefined && open.timeoutMs === timeoutMs && open.timer !== undefined) {
      open.awaiting++;
      return open;
    }
    const deadline: ReplyDeadline = { timeoutMs, timer: undefined, awaiting: 1 };
    deadline.timer = this.#timers.setTimeout(() => {
      deadline.timer = undefined;
      // A reply may still come; matching it (or a later one) to the next command must never happen.
      const expired = this.#inflight.filter((p) => p.deadline === deadline);
      this.#inflight = this.#inflight.filter((p) => p.deadline !== deadline);
      for (const p of expired) this.#guarded(p.done, { ok: false, code: 'timeout' });
      this.#abort('timeout', 'command reply timed out');
    }, timeoutMs);
    this.#openDeadline = deadline;
    return deadline;
  }

  #releaseDeadline(deadline: ReplyDeadline): void {
    if (deadline === CONNECT_TIMER_BOUNDS || --deadline.awaiting > 0 || deadline.timer === undefined) return;
    this.#timers.clearTimeout(deadline.timer);
    deadline.timer = undefined;
  }

  /**
   * Queues a frame; the frames written in the same tick leave together, as ONE string in one `write`, when the
   * tick ends (a whole call setup is issued synchronously). One string costs less than a corked `writev` of a
   * Buffer per frame: ~2% of a call's CPU (README "Performance").
   */
  #write(frame: string): void {
    if (this.#outgoing === '') {
      // After the current job and its microtasks: everything the caller issues meanwhile is batched. nextTick,
      // not queueMicrotask: Node wraps each queueMicrotask callback in an AsyncResource, which cost ~3% of a
      // call's CPU at three batches per call (README "Performance").
      process.nextTick(this.#flush);
    }
    this.#outgoing += frame;
  }

  readonly #flush = (): void => {
    const text = this.#outgoing;
    this.#outgoing = '';
    this.#openDeadline = undefined;
    if (text !== '' && !this.#socket.destroyed && !this.#socket.writableEnded) this.#socket.write(text);
  };

  #settleInflight(result: CommandResult | ConnectResult): void {
    const pending = this.#inflight.shift();
    if (!pending) return;
    this.#releaseDeadline(pending.deadline);
    this.#guarded(pending.done, result);
  }

  /** Closed or poisoned (a graceful close still reads what the peer sends until it closes). */
  get #dead(): boolean {
    return this.#pendingClose !== undefined || this.#closeInfo !== undefined;
  }

  readonly #onData = (chunk: Buffer): void => {
    if (this.#dead) return;
    const result = this.#parser.push(chunk);
    for (const frame of result.frames) {
      if (this.#dead) return;
      this.#handleFrame(frame);
    }
    if (!result.ok) {
      this.#abort(result.code, result.detail);
      return;
    }
    if (this.#dead) return;
    if (this.#parser.midFrame) {
      this.#stallTimer ??= this.#timers.setTimeout(() => {
        this.#stallTimer = undefined;
        this.#abort('timeout', 'peer stalled mid-frame');
      }, this.#opts.connectTimeoutMs);
    } else if (this.#stallTimer !== undefined) {
      this.#timers.clearTimeout(this.#stallTimer);
      this.#stallTimer = undefined;
    }
  };

  #handleFrame(frame: EslFrame): void {
    const type = frame.headers.get('Content-Type');
    switch (type) {
      case 'command/reply':
        this.#onReply(frame);
        return;
      case 'text/event-json':
      case 'text/event-plain': {
        const headers = frame.body
          ? type === 'text/event-json'
            ? parseJsonEventBody(frame.body)
            : parsePlainEventBody(frame.body)
          : undefined;
        if (!headers) {
          this.#abort('protocol_error', `undecodable ${type} event`);
          return;
        }
        this.#onEvent(headers);
        return;
      }
      case 'text/disconnect-notice':
        this.#onNotice(frame);
        return;
      case 'api/response':
        this.#abort('protocol_error', 'api/response to a command we never send');
        return;
      case 'log/data':
        return;
      case 'text/rude-rejection':
        this.#abort('protocol_error', 'peer rejected the connection');
        return;
      default:
        this.#abort('protocol_error', 'frame without a known Content-Type');
    }
  }

  #onReply(frame: EslFrame): void {
    const pending = this.#inflight[0];
    if (!pending) {
      this.#abort('protocol_error', 'reply with no command in flight');
      return;
    }
    if (pending.shape === null) {
      const channel = parseChannelData(frame.headers);
      if (!channel) {
        this.#abort('protocol_error', 'connect reply without Unique-ID');
        return;
      }
      this.#channel = channel;
      if (this.#connectTimer !== undefined) {
        this.#timers.clearTimeout(this.#connectTimer);
        this.#connectTimer = undefined;
      }
      this.#settleInflight({ ok: true, channel });
    } else {
      const replyText = frame.headers.get('Reply-Text') ?? '';
      if (!replyAnswers(pending.shape, replyText)) {
        // A reply is missing or extra: every later reply would answer the wrong command.
        this.#abort('protocol_error', 'reply does not answer the command awaiting it');
        return;
      }
      if (pending.onReply) this.#call(pending.onReply);
      this.#settleInflight(replyText.startsWith('-') ? { ok: false, code: 'command_failed', replyText } : { ok: true, replyText });
    }
  }

  #onEvent(headers: ReadonlyMap<string, string>): void {
    const event: EslEvent = { name: headers.get('Event-Name')!, seq: ++this.#seq, headers };
    if (this.#backlogSize > 0) {
      this.#backlog.push(event);
      if (this.#backlog.length > this.#backlogSize) this.#backlog.shift();
    }
    // Set iteration tolerates deleting the current entry; nothing is added synchronously (waiters resolve later),
    // so no copy per event. A listener that subscribes another one mid-event sees it called for this event too.
    for (const waiter of this.#eventWaiters) {
      if (event.seq > waiter.afterSeq && this.#test(waiter.predicate, event)) {
        this.#eventWaiters.delete(waiter);
        this.#timers.clearTimeout(waiter.timer);
        waiter.resolve({ ok: true, event });
      }
    }
    for (const listener of this.#eventListeners) {
      try {
        listener(event);
      } catch (err) {
        this.#report(err);
      }
    }
  }

  #onNotice(frame: EslFrame): void {
    const headers = decodeHeaders(frame.headers);
    const lingerText = headers.get('Linger-Time');
    const lingerSeconds = lingerText !== undefined && /^-?\d+$/.test(lingerText) ? Number(lingerText) : undefined;
    const notice: DisconnectNotice = { disposition: headers.get('Content-Disposition') ?? '', lingerSeconds, headers };
    this.#notices.push(notice);
    // Set iteration tolerates deleting the current entry, so no copy per notice (as for events).
    for (const waiter of this.#noticeWaiters) {
      if (waiter.disposition === undefined || waiter.disposition === notice.disposition) {
        this.#noticeWaiters.delete(waiter);
        this.#timers.clearTimeout(waiter.timer);
        waiter.resolve({ ok: true, notice });
      }
    }
    for (const listener of this.#noticeListeners) {
      try {
        listener(notice);
      } catch (err) {
        this.#report(err);
      }
    }
  }

  #test(predicate: (event: EslEvent) => boolean, event: EslEvent): boolean {
    try {
      return predicate(event);
    } catch (err) {
      this.#report(err);
      return false;
    }
  }

  #call(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.#report(err);
    }
  }

  #report(err: unknown): void {
    try {
      this.#opts.onListenerError?.(err);
    } catch {
      // A throwing error hook must not take the process down either.
    }
  }

  readonly #onError = (err: Error): void => {
    this.#abort('socket_error', err.message);
  };

  /** Resolves every queued/in-flight command and waiter with `code` (no socket action). */
  #failPending(code: EslFailureCode, detail: string): void {
    const pending = this.#inflight;
    this.#inflight = [];
    for (const p of pending) {
      this.#releaseDeadline(p.deadline);
      this.#guarded(p.done, { ok: false, code, detail });
    }
  }

  #abort(reason: CloseReason, detail: string | undefined): void {
    if (this.#closeInfo || this.#pendingClose) return;
    this.#pendingClose = { reason, detail };
    this.#clearTimers();
    this.#failPending('closed', detail ?? reason);
    this.#resolveWaiters();
    // 'close' always follows destroy(); #finish runs there so late socket errors are still swallowed.
    if (this.#socket.closed) this.#finish();
    else this.#socket.destroy();
  }

  readonly #onClose = (): void => {
    if (!this.#pendingClose) {
      this.#pendingClose = { reason: this.#closing ? 'closed' : 'remote_closed', detail: undefined };
      this.#clearTimers();
      this.#failPending('closed', 'socket closed');
      this.#resolveWaiters();
    }
    this.#finish();
  };

  #finish(): void {
    if (this.#closeInfo) return;
    const pending = this.#pendingClose!;
    this.#socket.off('data', this.#onData);
    this.#socket.off('close', this.#onClose);
    this.#socket.off('error', this.#onError);
    this.#closeInfo = {
      reason: pending.reason,
      detail: pending.detail,
      disconnectNotice: this.#notices.some((n) => n.disposition === 'disconnect'),
    };
    this.#eventListeners.clear();
    this.#noticeListeners.clear();
    this.#backlog = [];
    const listeners = this.#closeListeners;
    this.#closeListeners = [];
    for (const listener of listeners) this.#call(() => listener(this.#closeInfo!));
  }

  #clearTimers(): void {
    if (this.#connectTimer !== undefined) this.#timers.clearTimeout(this.#connectTimer);
    if (this.#stallTimer !== undefined) this.#timers.clearTimeout(this.#stallTimer);
    if (this.#gracefulTimer !== undefined) this.#timers.clearTimeout(this.#gracefulTimer);
    this.#connectTimer = undefined;
    this.#stallTimer = undefined;
    this.#gracefulTimer = undefined;
  }

  #resolveWaiters(): void {
    for (const waiter of this.#eventWaiters) {
      this.#timers.clearTimeout(waiter.timer);
      waiter.resolve({ ok: false, code: 'closed' });
    }
    this.#eventWaiters.clear();
    for (const waiter of this.#noticeWaiters) {
      this.#timers.clearTimeout(waiter.timer);
      waiter.resolve({ ok: false, code: 'closed' });
    }
    this.#noticeWaiters.clear();
  }
}
