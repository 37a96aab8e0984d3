/**
 * A fake FreeSWITCH for e2e tests, benchmarks and soak: a TCP CLIENT that connects to the daemon exactly as
 * FreeSWITCH's `socket 127.0.0.1:8084 async full` does, speaks the wire protocol byte-for-byte as captured
 * (transcripts/), runs the A-leg semantics of NOTES §5/§6 and scripted carrier gateways, and records every frame
 * it receives. No tap imports: benchmarks load it too.
 *
 * Behaviour choices (documented for tests):
 * - Unknown gateway → the leg fails at once with INVALID_GATEWAY (mod_sofia's cause for a gateway name it does
 *   not know), no SIP status. Endpoints other than `sofia/gateway/...` → CHAN_NOT_IMPLEMENTED, except
 *   `error/<CAUSE>` which fails with CAUSE.
 * - Without `linger`, when the A-leg hangs up only CHANNEL_HANGUP is delivered, then the disconnect notice and the
 *   close (`noLingerEvents: 'drop'`, the worst case of NOTES §5); `'deliver'` delivers everything first, like the
 *   quiet-lab captures 4b_nolinger_*.
 * - `originate_timeout` comes only from `{}` (or A-leg `call_timeout`), default 60 s → NO_ANSWER, and stops the `|`
 *   list unless `originate_continue_on_timeout=true`; `leg_timeout` → ALLOTTED_TIMEOUT; `leg_progress_timeout` /
 *   `progress_timeout` without 18x → PROGRESS_TIMEOUT; a silent carrier otherwise fails after Timer B (32 s) with
 *   RECOVERY_ON_TIMER_EXPIRE / 408. Failures continue down the `|` list unless `fail_on_single_reject` names the
 *   cause (or is `true`).
 * - An unknown dialplan app completes with `_none_` and is listed in `record.unknownApps`.
 */
import { randomUUID } from 'node:crypto';
import { connect as netConnect, type Socket } from 'node:net';
import { encodeEslValue } from '../../src/esl/channel-data.js';
import { FrameParser, type EslFrame } from '../../src/esl/frame-parser.js';
import { CONNECT_REPLY_TEMPLATE } from './channel-template.js';
import { EventFilters } from './event-filter.js';
import { delimited, legVar, parseDialString, type DialLeg, type ParsedDialString } from './dial-string.js';
import { causeForSipStatus, phraseForSipStatus } from './sip-causes.js';

/** How a scripted carrier gateway answers an INVITE. All times in unscaled ms. */
export type GatewayScript =
  | {
      readonly type: 'answer';
      /** ms until 200 OK (default 0). */
      readonly afterMs?: number;
      /** 180 → CHANNEL_PROGRESS, 183 → CHANNEL_PROGRESS_MEDIA on the A-leg before the answer (default none). */
      readonly progress?: 180 | 183;
      readonly progressAfterMs?: number;
      /** The callee hangs up this long after answering; absent = holds until the A-leg (or the test) ends it. */
      readonly hangupAfterMs?: number;
    }
  | {
      readonly type: 'fail';
      readonly status: number;
      readonly afterMs?: number;
      /** Early media / ringing before the failure. */
      readonly progress?: 180 | 183;
      readonly progressAfterMs?: number;
      /** Override the cause derived from the status. */
      readonly cause?: string;
      readonly phrase?: string;
    }
  | { readonly type: 'ring'; readonly progress?: 180 | 183; readonly progressAfterMs?: number }
  | { readonly type: 'silent'; readonly timerBMs?: number };

/** Steps at which a call can be hung up by the caller or dropped (TCP) by the fake. */
export type CallStep = 'connect' | 'connected' | 'set' | 'bridge' | 'answered' | 'linger';

/** How long (unscaled ms) an early linger notice leads the events it came before (`lingerNoticeAt`). */
const NOTICE_LEAD_MS = 2000;

/** Commands a socket without `full` control refuses (NOTES §1). */
const FULL_CONTROL_COMMANDS: ReadonlySet<string> = new Set(['linger', 'nolinger', 'event', 'api', 'bgapi']);

export interface FakeFreeSwitchOptions {
  readonly daemonPort: number;
  readonly daemonHost?: string;
  readonly gateways?: Readonly<Record<string, GatewayScript>>;
  /** Multiplies every delay (script ms, dial-string seconds, linger, Timer B). 0.01 → 6 s takes 60 ms. */
  readonly timeScale?: number;
  readonly noLingerEvents?: 'drop' | 'deliver';
  /** Keep raw frames in records (default true; benchmarks turn it off). */
  readonly recordRaw?: boolean;
}

export interface CallOptions {
  /** Channel variables of the A-leg (appear as `variable_<name>` in the connect reply). */
  readonly variables?: Readonly<Record<string, string>>;
  readonly uuid?: string;
  /** The caller hangs up at this step, or this many (unscaled) ms after the connect reply. */
  readonly hangupAt?: CallStep | { readonly afterMs: number };
  readonly hangupCause?: string;
  /** The fake drops the TCP connection at this step. */
  readonly dropAt?: CallStep;
  /**
   * The flags the dialplan's `socket` app ran with, as the connect reply states them (`Socket-Mode`, `Control`;
   * default `async` / `full`). Without `full` the switch answers linger, nolinger, event, api and bgapi with
   * `-ERR command not found` (NOTES §1). (Sync mode's blocking of a running app is not simulated.)
   */
  readonly socketMode?: 'async' | 'static';
  readonly control?: 'full' | 'single-channel';
  /**
   * When the linger notice goes out on the A-leg's hangup (default `end`, after CHANNEL_HANGUP_COMPLETE). The real
   * switch sent it before CHANNEL_HANGUP_COMPLETE in 30 of 1,000 calls and before the bridge's completion in 6
   * (NOTES §9): `before_hangup_complete`, `before_bridge_complete` (right after CHANNEL_HANGUP).
   */
  readonly lingerNoticeAt?: 'end' | 'before_hangup_complete' | 'before_bridge_complete';
}

export interface RecordedFrame {
  readonly atMs: number;
  readonly raw: string | undefined;
  readonly command: string;
  readonly headers: Readonly<Record<string, string>>;
}

export interface ExecuteRecord {
  readonly app: string;
  readonly arg: string;
  readonly eventUuid: string | undefined;
  readonly eventLock: boolean;
  /** Sent while a bridge was running: FreeSWITCH would run it nested inside the bridge (NOTES §4). */
  readonly nestedInBridge: boolean;
  /** Sent after the channel hung up: answered +OK, never run. */
  readonly afterHangup: boolean;
}

export interface LegAttempt {
  readonly gateway: string | undefined;
  readonly number: string | undefined;
  readonly endpoint: string;
  /** Effective leg variables: `{}` merged with `[]` (the latter wins). */
  readonly vars: Readonly<Record<string, string>>;
  cause: string | undefined;
  sipStatus: number | undefined;
  answered: boolean;
}

export interface BridgeRecord {
  readonly dialString: string;
  readonly parsed: ParsedDialString;
  readonly legs: LegAttempt[];
  outcome: 'answered' | 'failed' | 'aborted' | undefined;
  cause: string | undefined;
}

export interface CallRecord {
  readonly uuid: string;
  readonly frames: RecordedFrame[];
  /** First line of every command received, in order. */
  readonly commands: string[];
  readonly executes: ExecuteRecord[];
  readonly bridges: BridgeRecord[];
  /** Gateways of every leg attempted, in order. */
  readonly attemptedGateways: string[];
  readonly unknownApps: string[];
  /** A-leg variables at the end (after `set` / `export` and bridge results). */
  readonly variables: Map<string, string>;
  connectReceived: boolean;
  lingerSeconds: number | undefined;
  /** Final A-leg hangup cause; undefined when the call went back to the dialplan. */
  hangupCause: string | undefined;
  exitReceived: boolean;
  /** `exit` came after CHANNEL_HANGUP_COMPLETE was sent (undefined: no exit). */
  exitAfterHangupComplete: boolean | undefined;
  /** Who closed the TCP connection. */
  closedBy: 'daemon' | 'fs' | undefined;
  /** The daemon closed (or exited) while the channel was up and not bridged: the dialplan continued. */
  dialplanContinued: boolean;
  /** Events sent to the daemon, by name, in order. */
  readonly eventsSent: string[];
  /** A `unload`/`reload` + `mod_event_socket` frame arrived (FreeSWITCH would unload the module). */
  moduleUnloadAttempt: boolean;
  /** The daemon wrote something after FreeSWITCH closed the socket (exit, linger over): never read by the switch. */
  wroteAfterClose: boolean;
}

export interface CallHandle {
  readonly uuid: string;
  /** Resolves when the call is over: socket closed and A-leg finished (or back in the dialplan). */
  readonly done: Promise<CallRecord>;
  readonly record: CallRecord;
  /** The caller hangs up now. */
  hangup(cause?: string): void;
  /** The fake drops the TCP connection now. */
  drop(): void;
}

const CORE_UUID = '11fefc03-ebe0-4607-8e2d-5b005bbafc9b';
const DISCONNECT_BODY = 'Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n';
const TRUE_RE = /^(true|yes|on|1|enabled|active|allow)$/i;

/** A fake switch placing calls at one daemon port. */
export class FakeFreeSwitch {
  readonly #opts: FakeFreeSwitchOptions;
  readonly #gateways = new Map<string, GatewayScript>();
  readonly #calls = new Set<FakeCall>();

  constructor(options: FakeFreeSwitchOptions) {
    this.#opts = options;
    for (const [name, script] of Object.entries(options.gateways ?? {})) this.#gateways.set(name, script);
  }

  /** Scripts (or re-scripts) gateway `name`. */
  gateway(name: string, script: GatewayScript): this {
    this.#gateways.set(name, script);
    return this;
  }

  /** Places a call and resolves with its record when it is over. */
  call(options: CallOptions = {}): Promise<CallRecord> {
    return this.startCall(options).done;
  }

  /** Places a call; returns a handle to hang up / drop it mid-way. */
  startCall(options: CallOptions = {}): CallHandle {
    const call = new FakeCall(this.#opts, this.#gateways, options);
    this.#calls.add(call);
    void call.done.then(() => this.#calls.delete(call));
    return {
      uuid: call.record.uuid,
      done: call.done,
      record: call.record,
      hangup: (cause) => call.callerHangup(cause ?? 'NORMAL_CLEARING'),
      drop: () => call.drop(),
    };
  }

  /** Calls not yet over. */
  get activeCalls(): number {
    return this.#calls.size;
  }

  /** Ends every call (drops the sockets) and waits for their records. */
  async close(): Promise<void> {
    const calls = [...this.#calls];
    for (const c of calls) c.drop();
    await Promise.all(calls.map((c) => c.done));
  }
}

type LegResult =
  | { kind: 'answered'; leg: LegAttempt; hangupAfterMs: number | undefined }
  | { kind: 'failed'; leg: LegAttempt | undefined; cause: string; sipStatus?: number; phrase?: string; originateTimeout?: boolean };

/** One call (A-leg + socket). */
class FakeCall {
  readonly record: CallRecord;
  readonly done: Promise<CallRecord>;
  readonly #opts: FakeFreeSwitchOptions;
  readonly #gateways: ReadonlyMap<string, GatewayScript>;
  readonly #call: CallOptions;
  readonly #socket: Socket;
  readonly #parser = new FrameParser({ maxFrameBytes: 16 * 1024 * 1024, commandLine: true });
  readonly #scale: number;
  readonly #start = Date.now();
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();
  readonly #otherUuid = randomUUID();
  #resolveDone!: (r: CallRecord) => void;
  #connected = false;
  #myevents = false;
  /** `filter` commands received (`filter Unique-ID <uuid>` keeps other channels' events away). */
  readonly #filters = new EventFilters();
  #eventNames = new Set<string>();
  #format: 'json' | 'plain' = 'plain';
  #linger: number | undefined; // seconds, -1 = forever
  #seq = 1000;
  #answered = false;
  #hungUp = false;
  #socketClosed = false;
  /** FreeSWITCH closed its side (exit, linger over, hangup without linger): input is no longer read. */
  #readClosed = false;
  #finished = false;
  #parked = false;
  #queue: Array<{ app: string; arg: string; uuid: string }> = [];
  #running: { app: string; arg: string; uuid: string; completed: boolean } | undefined;
  #bridging: { bRecord: BridgeRecord; abort: () => void; bridgedTo: string | undefined } | undefined;
  #exported = new Map<string, string>();
  #state = { callState: 'RINGING', answerState: 'ringing', channelState: 'CS_EXECUTE', stateNumber: '4' };

  constructor(opts: FakeFreeSwitchOptions, gateways: ReadonlyMap<string, GatewayScript>, call: CallOptions) {
    this.#opts = opts;
    this.#gateways = gateways;
    this.#call = call;
    this.#scale = opts.timeScale ?? 1;
    const uuid = call.uuid ?? randomUUID();
    this.record = {
      uuid,
      frames: [],
      commands: [],
      executes: [],
      bridges: [],
      attemptedGateways: [],
      unknownApps: [],
      variables: new Map(Object.entries(call.variables ?? {})),
      connectReceived: false,
      lingerSeconds: undefined,
      hangupCause: undefined,
      exitReceived: false,
      exitAfterHangupComplete: undefined,
      closedBy: undefined,
      dialplanContinued: false,
      eventsSent: [],
      moduleUnloadAttempt: false,
      wroteAfterClose: false,
    };
    this.done = new Promise((resolve) => {
      this.#resolveDone = resolve;
    });
    this.#socket = netConnect({ host: opts.daemonHost ?? '127.0.0.1', port: opts.daemonPort, noDelay: true });
    this.#socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    this.#socket.on('error', () => {});
    this.#socket.on('close', () => this.#onSocketClose());
  }

  // --- time --------------------------------------------------------------------------------------------------

  #after(ms: number, fn: () => void): ReturnType<typeof setTimeout> {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      fn();
    }, Math.max(0, ms * this.#scale));
    this.#timers.add(timer);
    return timer;
  }

  #cancel(timer: ReturnType<typeof setTimeout> | undefined): void {
    if (timer === undefined) return;
    clearTimeout(timer);
    this.#timers.delete(timer);
  }

  // --- inbound -----------------------------------------------------------------------------------------------

  #onData(chunk: Buffer): void {
    // The switch shuts the socket down both ways when it closes it (mes.c close_socket): nothing more is read.
    if (this.#readClosed) {
      this.record.wroteAfterClose = true;
      return;
    }
    const result = this.#parser.push(chunk);
    for (const frame of result.frames) {
      // Commands pipelined behind `exit` in the same read are never run either.
      if (this.#readClosed) {
        this.record.wroteAfterClose = true;
        return;
      }
      this.#onFrame(frame);
    }
    if (!result.ok) this.drop();
  }

  #onFrame(frame: EslFrame): void {
    const command = frame.command ?? '';
    const headers = Object.fromEntries(frame.headers);
    const raw = this.#opts.recordRaw === false ? undefined : this.#rawOf(frame);
    this.record.frames.push({ atMs: Date.now() - this.#start, raw, command, headers });
    this.record.commands.push(command);
    const blob = `${command}\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}`).join('\n')}`;
    if (/unload|reload/.test(blob) && /mod_event_socket/.test(blob)) this.record.moduleUnloadAttempt = true;
    const [verb = '', ...args] = command.split(' ');
    if (!this.#connected) {
      // FreeSWITCH answers nothing until `connect` (NOTES §2).
      if (verb === 'connect') this.#onConnect();
      return;
    }
    if ((this.#call.control ?? 'full') !== 'full' && FULL_CONTROL_COMMANDS.has(verb)) return this.#reply('-ERR command not found');
    switch (verb) {
      case 'myevents':
        this.#myevents = true;
        this.#format = args[0] === 'json' ? 'json' : 'plain';
        return this.#reply('+OK Events Enabled');
      case 'event': {
        const format = args[0] === 'json' ? 'json' : args[0] === 'xml' ? 'xml' : 'plain';
        this.#format = format === 'json' ? 'json' : 'plain';
        for (const name of args.slice(1)) this.#eventNames.add(name);
        return this.#reply(`+OK event listener enabled ${format}`);
      }
      case 'filter':
        if (args[0] === undefined || args.length < 2) return this.#reply('-ERR invalid syntax');
        this.#filters.add(args[0], args.slice(1).join(' '));
        return this.#reply(`+OK filter added. [${args[0] ?? ''}]=[${args.slice(1).join(' ')}]`);
      case 'linger': {
        const n = args[0] !== undefined && /^\d+$/.test(args[0]) ? Number(args[0]) : -1;
        this.#linger = n;
        this.record.lingerSeconds = n;
        return this.#reply(n === -1 ? '+OK will linger' : `+OK will linger ${n} seconds`);
      }
      case 'nolinger':
        this.#linger = undefined;
        this.record.lingerSeconds = undefined;
        return this.#reply('+OK will not linger');
      case 'resume':
        return this.#reply('+OK');
      case 'exit':
        this.record.exitReceived = true;
        this.record.exitAfterHangupComplete = this.record.eventsSent.includes('CHANNEL_HANGUP_COMPLETE');
        this.#reply('+OK bye');
        this.#sendDisconnect();
        this.#closeSocket();
        return;
      case 'sendmsg':
        return this.#onSendmsg(frame);
      default:
        return this.#reply('-ERR command not found');
    }
  }

  #rawOf(frame: EslFrame): string {
    let text = `${frame.command ?? ''}\n`;
    for (const [k, v] of frame.headers) text += `${k}: ${v}\n`;
    return `${text}\n${frame.body ? frame.body.toString('utf8') : ''}`;
  }

  #onConnect(): void {
    this.record.connectReceived = true;
    if (this.#step('connect')) return;
    this.#connected = true;
    this.#write(this.#connectReply());
    if (this.#step('connected')) return;
    const hangupAt = this.#call.hangupAt;
    if (hangupAt && typeof hangupAt === 'object') this.#after(hangupAt.afterMs, () => this.callerHangup(this.#call.hangupCause ?? 'NORMAL_CLEARING'));
  }

  /** Runs the scripted hangup/drop for `step`; true when the call stopped here. */
  #step(step: CallStep): boolean {
    if (this.#call.dropAt === step) {
      this.drop();
      return true;
    }
    if (this.#call.hangupAt === step) {
      this.callerHangup(this.#call.hangupCause ?? 'NORMAL_CLEARING');
      return true;
    }
    return false;
  }

  #onSendmsg(frame: EslFrame): void {
    const h = frame.headers;
    const callCommand = (h.get('call-command') ?? '').toLowerCase();
    if (callCommand === 'hangup') {
      this.#reply('+OK');
      this.#hangupA(h.get('hangup-cause') ?? 'NORMAL_CLEARING');
      return;
    }
    if (callCommand !== 'execute') return this.#reply('-ERR invalid call-command');
    const app = h.get('execute-app-name') ?? '';
    let arg = h.get('execute-app-arg') ?? '';
    if (!h.has('execute-app-arg') && frame.body && /text\/plain/i.test(h.get('content-type') ?? '')) arg = frame.body.toString('utf8');
    const uuid = h.get('Event-UUID') ?? h.get('event-uuid') ?? randomUUID();
    this.record.executes.push({
      app,
      arg,
      eventUuid: h.get('Event-UUID') ?? h.get('event-uuid'),
      eventLock: TRUE_RE.test(h.get('event-lock') ?? ''),
      nestedInBridge: this.#bridging !== undefined,
      afterHangup: this.#hungUp,
    });
    this.#reply('+OK');
    if (this.#hungUp) return;
    if ((app === 'set' || app === 'multiset') && this.#step('set')) return;
    const job = { app, arg, uuid };
    if (this.#bridging) {
      // A running bridge drains the queue: the app runs nested inside it.
      void this.#runApp({ ...job, completed: false }, true);
      return;
    }
    this.#queue.push(job);
    this.#pump();
  }

  // --- the A-leg ---------------------------------------------------------------------------------------------

  #pump(): void {
    if (this.#running || this.#hungUp) return;
    const job = this.#queue.shift();
    if (!job) return;
    const running = { ...job, completed: false };
    this.#running = running;
    void this.#runApp(running, false).then(() => {
      if (this.#running === running) this.#running = undefined;
      this.#pump();
    });
  }

  async #runApp(job: { app: string; arg: string; uuid: string; completed: boolean }, nested: boolean): Promise<void> {
    if (!this.#parked) {
      this.#parked = true;
      this.#emit('CHANNEL_PARK');
    }
    await this.#tick();
    if (this.#hungUp) return;
    this.#emit('CHANNEL_EXECUTE', this.#appHeaders(job));
    const { app, arg } = job;
    switch (app) {
      case 'set':
      case 'export': {
        let spec = arg;
        const nolocal = app === 'export' && spec.startsWith('nolocal:');
        if (nolocal) spec = spec.slice('nolocal:'.length);
        const eq = spec.indexOf('=');
        const name = eq === -1 ? spec : spec.slice(0, eq);
        const value = eq === -1 ? '' : spec.slice(eq + 1);
        if (!nolocal) {
          if (value === '') this.record.variables.delete(name);
          else this.record.variables.set(name, value);
        }
        if (app === 'export') this.#exported.set(name, value);
        break;
      }
      case 'multiset': {
        // mod_dptools multiset: space-delimited name=value list, or `^^<d>` to choose the delimiter.
        const { sep, body: spec } = delimited(arg, ' ');
        for (const item of spec.split(sep)) {
          if (item === '') continue;
          const eq = item.indexOf('=');
          const name = eq === -1 ? item : item.slice(0, eq);
          const value = eq === -1 ? '' : item.slice(eq + 1);
          if (value === '') this.record.variables.delete(name);
          else this.record.variables.set(name, value);
        }
        break;
      }
      case 'answer':
        this.#answerA();
        break;
      case 'pre_answer':
        this.#emit('CHANNEL_PROGRESS_MEDIA');
        break;
      case 'ring_ready':
        this.#emit('CHANNEL_PROGRESS');
        break;
      case 'hangup':
        this.#hangupA(arg.trim() || 'NORMAL_CLEARING');
        return;
      case 'bridge':
        if (nested) break;
        await this.#bridge(job);
        return;
      default:
        this.record.unknownApps.push(app);
    }
    this.#complete(job);
  }

  #complete(job: { app: string; arg: string; uuid: string; completed: boolean }): void {
    if (job.completed) return;
    job.completed = true;
    this.#emit('CHANNEL_EXECUTE_COMPLETE', { ...this.#appHeaders(job), 'Application-Response': '_none_' });
  }

  #appHeaders(job: { app: string; arg: string; uuid: string }): Record<string, string> {
    const h: Record<string, string> = { Application: job.app };
    if (job.arg !== '') h['Application-Data'] = job.arg;
    h['Application-UUID'] = job.uuid;
    return h;
  }

  #answerA(): void {
    if (this.#answered) return;
    this.#answered = true;
    this.#state = { ...this.#state, callState: 'ACTIVE', answerState: 'answered' };
    this.#emit('CHANNEL_ANSWER');
  }

  async #bridge(job: { app: string; arg: string; uuid: string; completed: boolean }): Promise<void> {
    const parsed = parseDialString(job.arg);
    const bRecord: BridgeRecord = { dialString: job.arg, parsed, legs: [], outcome: undefined, cause: undefined };
    this.record.bridges.push(bRecord);
    const controllers = new Set<() => void>();
    this.#bridging = { bRecord, abort: () => controllers.forEach((c) => c()), bridgedTo: undefined };
    if (this.#step('bridge')) return;
    const vars = this.record.variables;
    const rejectList = legGlobal(parsed, 'fail_on_single_reject');
    const continueOnTimeout = TRUE_RE.test(parsed.globals['originate_continue_on_timeout'] ?? '');
    const originateTimeoutS = Number(parsed.globals['originate_timeout'] ?? vars.get('call_timeout') ?? 60) || 60;
    let last: LegResult | undefined;
    for (const group of parsed.groups) {
      const results = await Promise.all(group.map((leg) => this.#runLeg(parsed, leg, bRecord, originateTimeoutS, controllers)));
      if (this.#hungUp) return;
      const answered = results.find((r) => r.kind === 'answered');
      if (answered && answered.kind === 'answered') return this.#bridged(job, bRecord, answered);
      last = results.at(-1);
      if (!last || last.kind !== 'failed') break;
      if (rejectList !== undefined && (TRUE_RE.test(rejectList) || matchesCauseList(rejectList, last.cause))) break;
      if (last.originateTimeout && !continueOnTimeout) break;
    }
    const failure = last && last.kind === 'failed' ? last : { kind: 'failed' as const, leg: undefined, cause: 'CHAN_NOT_IMPLEMENTED' };
    this.#bridging = undefined;
    bRecord.outcome = 'failed';
    bRecord.cause = failure.cause;
    this.#setFailureVars(bRecord, failure);
    const cof = vars.get('continue_on_fail') ?? '';
    if (TRUE_RE.test(cof) || matchesCauseList(cof, failure.cause)) {
      this.#complete(job);
      return;
    }
    // No continue_on_fail on the A-leg: the bridge app hangs the channel up with the failure cause (4d_04).
    this.#hangupA(failure.cause);
  }

  #setFailureVars(bRecord: BridgeRecord, failure: Extract<LegResult, { kind: 'failed' }>): void {
    const v = this.record.variables;
    v.set('originate_disposition', failure.cause);
    // NOANSWER and BUSY are the switch's words for those two (4d_10, 4d_05); otherwise the cause (4d_03, 4d_09).
    v.set('DIALSTATUS', failure.cause === 'NO_ANSWER' ? 'NOANSWER' : failure.cause === 'USER_BUSY' ? 'BUSY' : failure.cause);
    v.set('last_bridge_hangup_cause', failure.cause);
    v.set('originate_failed_cause', failure.cause);
    v.set('originate_causes', bRecord.legs.map((l) => `${randomUUID()};${l.cause ?? 'NONE'}`).join('|'));
    if (failure.sipStatus !== undefined) {
      v.set('sip_invite_failure_status', String(failure.sipStatus));
      v.set('sip_invite_failure_phrase', failure.phrase ?? phraseForSipStatus(failure.sipStatus));
      v.set('last_bridge_proto_specific_hangup_cause', `sip:${failure.sipStatus}`);
    } else {
      v.delete('sip_invite_failure_status');
      v.delete('sip_invite_failure_phrase');
    }
  }

  async #bridged(job: { app: string; arg: string; uuid: string; completed: boolean }, bRecord: BridgeRecord, answered: Extract<LegResult, { kind: 'answered' }>): Promise<void> {
    const bUuid = randomUUID();
    bRecord.outcome = 'answered';
    bRecord.cause = 'SUCCESS';
    const v = this.record.variables;
    v.set('originate_disposition', 'SUCCESS');
    v.set('DIALSTATUS', 'SUCCESS');
    v.set('bridge_uuid', bUuid);
    // The 200's `sip:200` replaces an earlier attempt's `sip:503` only when the bridge ends (4d_03: still sip:503
    // on CHANNEL_BRIDGE, sip:200 from CHANNEL_UNBRIDGE on).
    const bridgeEnded = (): void => void v.set('last_bridge_proto_specific_hangup_cause', 'sip:200');
    // Seen (4d_03): after a failure then a success the SIP failure variables are gone; originate_failed_cause stays.
    v.delete('sip_invite_failure_status');
    v.delete('sip_invite_failure_phrase');
    this.#answerA();
    this.#bridging!.bridgedTo = bUuid;
    this.#emit('CHANNEL_BRIDGE', { 'Bridge-A-Unique-ID': this.record.uuid, 'Bridge-B-Unique-ID': bUuid, 'Other-Leg-Unique-ID': bUuid });
    if (this.#step('answered')) return;
    const ended = await new Promise<'callee' | 'aleg'>((resolve) => {
      const timer = answered.hangupAfterMs !== undefined ? this.#after(answered.hangupAfterMs, () => resolve('callee')) : undefined;
      const prev = this.#bridging!.abort;
      this.#bridging!.abort = () => {
        prev();
        this.#cancel(timer);
        bridgeEnded();
        resolve('aleg');
      };
    });
    if (ended === 'aleg') return; // #hangupA emitted the unbridge and the completion
    this.#bridging = undefined;
    bridgeEnded();
    v.set('last_bridge_hangup_cause', 'NORMAL_CLEARING');
    v.set('bridge_hangup_cause', 'NORMAL_CLEARING');
    this.#emit('CHANNEL_UNBRIDGE', { 'Bridge-A-Unique-ID': this.record.uuid, 'Bridge-B-Unique-ID': bUuid });
    if (TRUE_RE.test(v.get('hangup_after_bridge') ?? '')) {
      this.#hangupA('NORMAL_CLEARING');
      return;
    }
    this.#complete(job);
    if (this.#socketClosed) {
      // The daemon left mid-bridge; the bridge is over and the channel returns to the dialplan.
      this.record.dialplanContinued = true;
      this.#finish();
    }
  }

  async #runLeg(parsed: ParsedDialString, leg: DialLeg, bRecord: BridgeRecord, originateTimeoutS: number, controllers: Set<() => void>): Promise<LegResult> {
    const attempt: LegAttempt = {
      gateway: leg.gateway,
      number: leg.number,
      endpoint: leg.endpoint,
      vars: { ...Object.fromEntries(this.#exported), ...parsed.globals, ...leg.vars },
      cause: undefined,
      sipStatus: undefined,
      answered: false,
    };
    bRecord.legs.push(attempt);
    const bLegUuid = randomUUID();
    const fail = (cause: string, extra: { sipStatus?: number; phrase?: string; originateTimeout?: boolean } = {}): LegResult => {
      attempt.cause = cause;
      attempt.sipStatus = extra.sipStatus;
      // The B-leg's own hangup: seen by a socket that subscribed by name without `filter Unique-ID` or myevents.
      this.#emitForeign('CHANNEL_HANGUP', bLegUuid, { 'Hangup-Cause': cause });
      this.#emitForeign('CHANNEL_HANGUP_COMPLETE', bLegUuid, { 'Hangup-Cause': cause });
      return { kind: 'failed', leg: attempt, cause, ...extra };
    };
    if (leg.gateway === undefined) {
      const error = /^error\/([A-Z_]+)$/.exec(leg.endpoint);
      await this.#tick();
      return fail(error ? error[1]! : 'CHAN_NOT_IMPLEMENTED');
    }
    this.record.attemptedGateways.push(leg.gateway);
    const script = this.#gateways.get(leg.gateway);
    if (!script) {
      await this.#tick();
      return fail('INVALID_GATEWAY');
    }
    const num = (name: string): number | undefined => {
      const value = legVar(parsed, leg, name);
      return value !== undefined && /^\d+$/.test(value) ? Number(value) * 1000 : undefined;
    };
    const deadlines: Array<{ at: number; result: () => LegResult; progressOnly?: boolean }> = [];
    deadlines.push({ at: originateTimeoutS * 1000, result: () => fail('NO_ANSWER', { originateTimeout: true }) });
    const legTimeout = num('leg_timeout');
    if (legTimeout !== undefined) deadlines.push({ at: legTimeout, result: () => fail('ALLOTTED_TIMEOUT') });
    const progressTimeout = num('leg_progress_timeout') ?? num('progress_timeout');
    if (progressTimeout !== undefined) deadlines.push({ at: progressTimeout, result: () => fail('PROGRESS_TIMEOUT'), progressOnly: true });
    const progressAt = script.type === 'silent' ? undefined : script.progress !== undefined ? (script.progressAfterMs ?? 0) : undefined;
    let final: { at: number; result: () => LegResult } | undefined;
    if (script.type === 'answer') {
      final = { at: script.afterMs ?? 0, result: () => ((attempt.answered = true), { kind: 'answered', leg: attempt, hangupAfterMs: script.hangupAfterMs }) };
    } else if (script.type === 'fail') {
      const status = script.status;
      final = { at: script.afterMs ?? 0, result: () => fail(script.cause ?? causeForSipStatus(status), { sipStatus: status, phrase: script.phrase ?? phraseForSipStatus(status) }) };
    } else if (script.type === 'silent') {
      final = { at: script.timerBMs ?? 32000, result: () => fail('RECOVERY_ON_TIMER_EXPIRE', { sipStatus: 408, phrase: 'Request Timeout' }) };
    }
    const candidates = [...deadlines.filter((d) => !d.progressOnly || progressAt === undefined || progressAt > d.at)];
    if (final) candidates.push(final);
    candidates.sort((a, b) => a.at - b.at);
    const winner = candidates[0]!;
    let aborted = false;
    const wait = (ms: number): Promise<void> =>
      new Promise((resolve) => {
        const timer = this.#after(ms, () => {
          controllers.delete(stop);
          resolve();
        });
        const stop = (): void => {
          aborted = true;
          this.#cancel(timer);
          resolve();
        };
        controllers.add(stop);
      });
    let elapsed = 0;
    if (progressAt !== undefined && progressAt < winner.at) {
      await wait(progressAt);
      if (aborted) return fail('ORIGINATOR_CANCEL');
      elapsed = progressAt;
      const progressKind = script.type !== 'silent' ? script.progress : undefined;
      this.#emit(progressKind === 183 ? 'CHANNEL_PROGRESS_MEDIA' : 'CHANNEL_PROGRESS');
    }
    await wait(winner.at - elapsed);
    if (aborted) return fail('ORIGINATOR_CANCEL');
    return winner.result();
  }

  /** Hangs the A-leg up (daemon hangup, hangup app, failed bridge, or caller). Emits the real switch's sequence. */
  #hangupA(cause: string): void {
    if (this.#hungUp || this.#finished) return;
    this.#hungUp = true;
    this.record.hangupCause = cause;
    // As the switch reports it (4a_handshake_json): until the first CHANNEL_STATE the events keep the running
    // state (CS_EXECUTE, call state ACTIVE or RINGING) with Answer-State hangup and state number 10; the call
    // state turns HANGUP with CS_REPORTING; variable_hangup_cause first appears on CHANNEL_HANGUP_COMPLETE.
    this.#state = { ...this.#state, answerState: 'hangup', stateNumber: '10' };
    const bridging = this.#bridging;
    this.#bridging = undefined;
    if (bridging && !bridging.bRecord.outcome) bridging.bRecord.outcome = 'aborted';
    bridging?.abort();
    const deliverAll = this.#linger !== undefined || this.#opts.noLingerEvents === 'deliver';
    this.#emit('CHANNEL_HANGUP', { 'Hangup-Cause': cause });
    const noticeAt = this.#linger === undefined ? 'none' : this.#call.lingerNoticeAt ?? 'end';
    const running = this.#running && !this.#running.completed ? this.#running : undefined;
    if (this.#running) this.#running.completed = true;
    const complete = (): void => {
      this.record.variables.set('hangup_cause', cause);
      this.#emit('CHANNEL_HANGUP_COMPLETE', { 'Hangup-Cause': cause });
    };
    const rest = (): void => {
      if (bridging?.bridgedTo) this.#emit('CHANNEL_UNBRIDGE', { 'Hangup-Cause': cause, 'Bridge-B-Unique-ID': bridging.bridgedTo });
      if (running) this.#emit('CHANNEL_EXECUTE_COMPLETE', { 'Hangup-Cause': cause, ...this.#appHeaders(running), 'Application-Response': '_none_' });
      this.#emit('CHANNEL_UNPARK', { 'Hangup-Cause': cause });
      this.#emit('CHANNEL_EXECUTE_COMPLETE', {
        'Hangup-Cause': cause,
        Application: 'socket',
        'Application-Data': '127.0.0.1:8084 async full',
        'Application-Response': '_none_',
        'Application-UUID': randomUUID(),
      });
      this.#state = { ...this.#state, channelState: 'CS_HANGUP' };
      this.#emit('CHANNEL_STATE', { 'Hangup-Cause': cause });
      this.#state = { ...this.#state, callState: 'HANGUP', channelState: 'CS_REPORTING', stateNumber: '11' };
      this.#emit('CHANNEL_STATE', { 'Hangup-Cause': cause });
      if (noticeAt !== 'before_hangup_complete') return complete();
      // The notice first, the event a moment later (another thread of the switch): a daemon that exits on the
      // notice is caught (`exitAfterHangupComplete`).
      this.#sendLingerNotice();
      this.#after(NOTICE_LEAD_MS, complete);
    };
    if (!deliverAll) this.record.variables.set('hangup_cause', cause);
    else if (noticeAt !== 'before_bridge_complete') rest();
    else {
      this.#sendLingerNotice();
      this.#after(NOTICE_LEAD_MS, rest);
    }
    this.#queue = [];
    if (this.#linger === undefined) {
      this.#sendDisconnect();
      this.#closeSocket();
      this.#maybeFinish();
      return;
    }
    if (noticeAt === 'end') this.#sendLingerNotice();
    if (this.#step('linger')) return;
    if (this.#linger >= 0) {
      this.#after(this.#linger * 1000, () => {
        this.#sendDisconnect();
        this.#closeSocket();
      });
    }
    this.#maybeFinish();
  }

  /** The caller (A-leg party) hangs up now. */
  callerHangup(cause: string): void {
    if (!this.#connected) {
      // Before connect: FreeSWITCH tears the channel and socket down.
      this.record.hangupCause = cause;
      this.#hungUp = true;
      this.drop();
      return;
    }
    this.#hangupA(cause);
  }

  /** Drops the TCP connection (FreeSWITCH side). */
  drop(): void {
    if (!this.#socketClosed) {
      this.record.closedBy ??= 'fs';
      this.#socket.destroy();
    }
    this.#bridging?.abort();
    this.#bridging = undefined;
    this.#hungUp = true;
    this.#finish();
  }

  // --- outbound ----------------------------------------------------------------------------------------------

  #write(text: string): void {
    if (!this.#socketClosed && !this.#readClosed && !this.#socket.destroyed) this.#socket.write(text);
  }

  #reply(text: string): void {
    this.#write(`Content-Type: command/reply\nReply-Text: ${text}\n\n`);
  }

  #sendLingerNotice(): void {
    this.#write(
      `Content-Type: text/disconnect-notice\nControlled-Session-UUID: ${this.record.uuid}\nContent-Disposition: linger\n` +
        `Channel-Name: loopback/campaign-b\nLinger-Time: ${this.#linger}\nContent-Length: 0\n\n`,
    );
  }

  #sendDisconnect(): void {
    this.#write(
      `Content-Type: text/disconnect-notice\nControlled-Session-UUID: ${this.record.uuid}\nContent-Disposition: disconnect\n` +
        `Content-Length: ${Buffer.byteLength(DISCONNECT_BODY)}\n\n${DISCONNECT_BODY}`,
    );
  }

  #closeSocket(): void {
    if (this.#socketClosed || this.#readClosed) return;
    this.#readClosed = true;
    this.record.closedBy ??= 'fs';
    // shutdown(SHUT_RDWR) + close, as mes.c does: what was written goes out, later writes of the daemon fail.
    this.#socket.end(() => this.#socket.destroy());
  }

  #dates(): { local: string; gmt: string; ts: string } {
    const now = new Date();
    const iso = now.toISOString();
    return { local: `${iso.slice(0, 10)} ${iso.slice(11, 19)}`, gmt: now.toUTCString(), ts: String(now.getTime() * 1000) };
  }

  #substitute(value: string, d: { local: string; gmt: string; ts: string }): string {
    if (!value.includes('@')) return value;
    return value
      .replace('@CORE_UUID', CORE_UUID)
      .replace('@OTHER_UUID', this.#otherUuid)
      .replace('@UUID', this.record.uuid)
      .replace('@DATE_LOCAL', d.local)
      .replace('@DATE_GMT', d.gmt)
      .replace('@TIMESTAMP', d.ts)
      .replace('@SEQ', String(++this.#seq))
      .replace('@CALL_STATE', this.#state.callState)
      .replace('@STATE_NUMBER', this.#state.stateNumber)
      .replace('@STATE', this.#state.channelState)
      .replace('@ANSWER_STATE', this.#state.answerState);
  }

  #connectReply(): string {
    const d = this.#dates();
    let text = '';
    for (const [name, value] of CONNECT_REPLY_TEMPLATE) {
      if (name === '@ORIGINATE_VARIABLES') {
        for (const [k, v] of Object.entries(this.#call.variables ?? {})) text += `variable_${k}: ${encodeEslValue(v)}\n`;
        continue;
      }
      const v = name === 'Socket-Mode' ? this.#call.socketMode ?? value : name === 'Control' ? this.#call.control ?? value : value;
      text += `${name}: ${encodeEslValue(this.#substitute(v, d))}\n`;
    }
    return `${text}\n`;
  }

  /** Emits event `name` if the daemon subscribed to it, in the subscribed format. */
  /**
   * An event of ANOTHER channel (the B-leg). The real switch sends these to a socket that subscribed with
   * `event ...` but set neither `myevents` nor `filter Unique-ID` (transcript 4a_no_myevents_json: four
   * Unique-IDs on one socket); a daemon that reads them as its own call's events would misjudge the call.
   */
  #emitForeign(name: string, uuid: string, extra: Record<string, string> = {}): void {
    if (this.#myevents) return;
    this.#emit(name, { ...extra, 'Unique-ID': uuid, 'Channel-Call-UUID': uuid, 'Caller-Unique-ID': uuid, 'Channel-Name': 'sofia/external/b-leg' });
  }

  #emit(name: string, extra: Record<string, string> = {}): void {
    if (this.#socketClosed || (!this.#myevents && !this.#eventNames.has(name) && !this.#eventNames.has('ALL'))) return;
    const d = this.#dates();
    const ev: Record<string, string> = {
      'Event-Name': name,
      'Core-UUID': CORE_UUID,
      'FreeSWITCH-Hostname': 'vm',
      'FreeSWITCH-Switchname': 'vm',
      'FreeSWITCH-IPv4': '192.0.2.2',
      'FreeSWITCH-IPv6': 'fd00::2',
      'Event-Date-Local': d.local,
      'Event-Date-GMT': d.gmt,
      'Event-Date-Timestamp': d.ts,
      'Event-Calling-File': 'switch_channel.c',
      'Event-Calling-Function': 'fake',
      'Event-Calling-Line-Number': '1',
      'Event-Sequence': String(++this.#seq),
      'Channel-State': this.#state.channelState,
      'Channel-Call-State': this.#state.callState,
      'Channel-State-Number': this.#state.stateNumber,
      'Channel-Name': 'loopback/campaign-b',
      'Unique-ID': this.record.uuid,
      'Call-Direction': 'inbound',
      'Presence-Call-Direction': 'inbound',
      'Channel-HIT-Dialplan': 'true',
      'Channel-Call-UUID': this.record.uuid,
      'Answer-State': this.#state.answerState,
      'Caller-Direction': 'inbound',
      'Caller-Caller-ID-Number': '0000000000',
      'Caller-Destination-Number': 'campaign',
      'Caller-Unique-ID': this.record.uuid,
      'Caller-Channel-Name': 'loopback/campaign-b',
      ...extra,
    };
    const own = ev['Unique-ID'] === this.record.uuid;
    ev['variable_uuid'] = ev['Unique-ID']!;
    ev['variable_call_uuid'] = ev['Unique-ID']!;
    if (own) for (const [k, v] of this.record.variables) ev[`variable_${k}`] = v;
    if (!this.#filters.passesRecord(ev)) return;
    this.record.eventsSent.push(name);
    let body: string;
    let type: string;
    if (this.#format === 'json') {
      body = JSON.stringify(ev);
      type = 'text/event-json';
    } else {
      body = '';
      for (const [k, v] of Object.entries(ev)) body += `${k}: ${encodeEslValue(v)}\n`;
      body += '\n';
      type = 'text/event-plain';
    }
    this.#write(`Content-Length: ${Buffer.byteLength(body)}\nContent-Type: ${type}\n\n${body}`);
  }

  /** Lets queued socket writes and replies go out before the next app step (FreeSWITCH runs apps on its own thread). */
  #tick(): Promise<void> {
    return new Promise((resolve) => setImmediate(resolve));
  }

  // --- end ---------------------------------------------------------------------------------------------------

  #onSocketClose(): void {
    if (this.#socketClosed) return;
    this.#socketClosed = true;
    this.record.closedBy ??= 'daemon';
    if (!this.#hungUp) {
      if (this.#bridging) {
        // Closing the socket mid-bridge does not end the call (NOTES §9): it ends when a party hangs up.
        return this.#maybeFinish();
      }
      this.record.dialplanContinued = true;
    }
    this.#finish();
  }

  #maybeFinish(): void {
    if (this.#socketClosed && (this.#hungUp || !this.#bridging)) this.#finish();
  }

  #finish(): void {
    if (this.#finished) return;
    this.#finished = true;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    if (!this.#socket.destroyed) this.#socket.destroy();
    this.#resolveDone(this.record);
  }
}

function legGlobal(parsed: ParsedDialString, name: string): string | undefined {
  return parsed.globals[name];
}

/** `a,b,c` / `^^:a:b` cause lists; a leading `!` negates. */
function matchesCauseList(list: string, cause: string): boolean {
  if (list === '') return false;
  const { sep, body: listBody } = delimited(list, ',');
  let body = listBody;
  const negate = body.startsWith('!');
  if (negate) body = body.slice(1);
  const hit = body.split(sep).map((s) => s.trim()).includes(cause);
  return negate ? !hit : hit;
}
