/**
 * A hostile FreeSWITCH: a raw TCP client that plays the outbound event socket like the real switch (connect reply
 * from the captured template, `+OK` replies, JSON events, linger and disconnect notices — enough for the daemon's
 * whole session: connect → linger → filter → event → multiset → bridge → hangup → exit) until a scripted point,
 * where it drops the connection, hangs the caller up, or injects crafted bytes and then carries on, goes silent
 * or closes. It reports how the session ended, so tests can tell "the daemon closed it" from "it never ended".
 *
 * Kept small and fast (no recording of frames) so the same peer drives 100,000-session runs and the soak. No tap
 * imports. For byte-exact FreeSWITCH behaviour (dial strings, timers, leg variables) use the fake FreeSWITCH.
 */
import { randomUUID } from 'node:crypto';
import { connect as netConnect, type Socket } from 'node:net';
import { encodeEslValue } from '../../../src/esl/channel-data.js';
import { FrameParser, type EslFrame } from '../../../src/esl/frame-parser.js';
import { CONNECT_REPLY_TEMPLATE } from '../../fake-freeswitch/channel-template.js';
import { EventFilters } from '../../fake-freeswitch/event-filter.js';

/** Points of a session at which the peer can drop, hang up or inject. */
export const PEER_STEPS = [
  'connect', // `connect` received, nothing answered yet
  'connected', // right after the connect reply
  'linger', // the `linger N` command
  'filter', // the `filter Unique-ID` command
  'event', // the `event json ...` command
  'multiset', // the A-leg multiset execute
  'bridge', // a bridge execute
  'answered', // CHANNEL_BRIDGE sent, the call is up
  'hangup', // the daemon's `sendmsg` hangup
  'lingering', // the linger notice sent (channel gone, socket kept)
  'exit', // the `exit` command
] as const;
export type PeerStep = (typeof PEER_STEPS)[number];

/** What a carrier gateway does with the bridge (the peer reads the gateway name from the dial string). */
export type CarrierBehaviour = 'answer' | 'busy' | 'unavailable' | 'silent';

export interface Injection {
  readonly at: PeerStep;
  /**
   * Relative to the step's own reply (for `answered` / `lingering` / `connected`: relative to what the switch does
   * next on its own). `instead` also skips the step's state change (after `linger` instead, the peer does not linger).
   */
  readonly where: 'before' | 'instead' | 'after';
  /** Written in order; with `spaced` each chunk goes out in its own event-loop turn (its own TCP segment). */
  readonly chunks: readonly Buffer[];
  readonly spaced?: boolean;
  /** After the injection: keep playing FreeSWITCH, go silent (socket left open), or close the socket. */
  readonly then: 'continue' | 'silent' | 'close';
}

export interface PeerScript {
  readonly variables: Readonly<Record<string, string>>;
  readonly uuid?: string;
  /** By gateway name; a gateway not listed answers. */
  readonly carriers?: Readonly<Record<string, CarrierBehaviour>>;
  /** ms before a `silent` carrier fails with 408 / RECOVERY_ON_TIMER_EXPIRE (the switch's Timer B, scaled). */
  readonly silentMs?: number;
  /** ms the answered call lasts before the callee hangs up (default 0). */
  readonly talkMs?: number;
  readonly dropAt?: PeerStep;
  readonly hangupAt?: PeerStep;
  readonly inject?: Injection;
  /** The connect reply goes out one byte per event-loop turn (a frame split byte by byte). */
  readonly connectReplyByteByByte?: boolean;
  /** After an injection `then: 'silent'`, drop the socket this long later if the daemon has not closed it (default: never). */
  readonly silentHoldMs?: number;
  /** Give up and report `deadline` if the session has not ended this long after the start (default 10,000 ms). */
  readonly deadlineMs?: number;
}

export type PeerEnd =
  | 'exit' // the daemon sent `exit`: the normal end
  | 'daemon_closed' // the daemon closed the socket without `exit` (error path)
  | 'peer_closed' // this peer dropped or closed (dropAt, inject then close, linger time over)
  // The channel ended while the switch was not lingering, so it closed the socket at once, as FreeSWITCH does
  // (only after an injection `instead` of the linger reply, which leaves the switch not lingering): with the
  // daemon's setup pipelined, such a call can be over before the daemon has read what came before.
  | 'switch_hung_up'
  | 'deadline'; // nobody closed it in time: a leaked session

export interface PeerResult {
  readonly uuid: string;
  readonly end: PeerEnd;
  /** First line of every command received, in order. */
  readonly commands: readonly string[];
  /** Gateways the daemon bridged to, in order. */
  readonly bridges: readonly string[];
  /** Cause of the daemon's `sendmsg` hangup, if any. */
  readonly daemonHangupCause: string | undefined;
  readonly injected: boolean;
  /** ms from the start to the close. */
  readonly ms: number;
  /** ms from the injection (or from the connect, when nothing was injected) to the close. */
  readonly msAfterInjection: number;
}

const LINGER_NOTICE_TAIL = 'Content-Disposition: linger\nChannel-Name: loopback/campaign-b\n';
const DISCONNECT_BODY = 'Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n';
const CORE_UUID = '11fefc03-ebe0-4607-8e2d-5b005bbafc9b';
const FAILURES: Record<Exclude<CarrierBehaviour, 'answer'>, { status: number; cause: string; phrase: string }> = {
  busy: { status: 486, cause: 'USER_BUSY', phrase: 'Busy Here' },
  unavailable: { status: 503, cause: 'NORMAL_TEMPORARY_FAILURE', phrase: 'Service Unavailable' },
  silent: { status: 408, cause: 'RECOVERY_ON_TIMER_EXPIRE', phrase: 'Request Timeout' },
};

/** The captured connect reply split around the call's own values (encoded once). */
const REPLY_PARTS = (() => {
  const fixed: Record<string, string> = {
    '@CORE_UUID': CORE_UUID, '@OTHER_UUID': 'ffffffff-0000-4000-8000-000000000001', '@DATE_LOCAL': '2025-01-01 12:00:00',
    '@DATE_GMT': 'Wed, 01 Jan 2025 12:00:00 GMT', '@TIMESTAMP': '1735732800000000', '@SEQ': '1001', '@STATE': 'CS_EXECUTE',
    '@CALL_STATE': 'RINGING', '@STATE_NUMBER': '4', '@ANSWER_STATE': 'ringing',
  };
  let before = '';
  let after = '';
  let seenVariables = false;
  for (const [name, value] of CONNECT_REPLY_TEMPLATE) {
    if (name === '@ORIGINATE_VARIABLES') {
      seenVariables = true;
      continue;
    }
    const line = `${name}: ${value === '@UUID' ? '\u0000' : encodeEslValue(fixed[value] ?? value)}\n`;
    if (seenVariables) after += line;
    else before += line;
  }
  return { before: before.split('\u0000'), after: `${after}\n`.split('\u0000') };
})();

/** The connect reply for `uuid` with `variables` as `variable_*` headers. */
export function connectReply(uuid: string, variables: Readonly<Record<string, string>>): string {
  let vars = '';
  for (const [k, v] of Object.entries(variables)) vars += `variable_${k}: ${encodeEslValue(v)}\n`;
  return REPLY_PARTS.before.join(uuid) + vars + REPLY_PARTS.after.join(uuid);
}

/** A `text/event-json` frame (JSON bodies are not URL-encoded). */
export function jsonEventFrame(fields: Readonly<Record<string, string>>): string {
  const body = JSON.stringify(fields);
  return `Content-Length: ${Buffer.byteLength(body)}\nContent-Type: text/event-json\n\n${body}`;
}

/** A `command/reply` frame. */
export function replyFrame(text: string): string {
  return `Content-Type: command/reply\nReply-Text: ${text}\n\n`;
}

/** Runs one session against the daemon's ESL port; resolves (never rejects) when the socket is closed. */
export function runPeer(port: number, script: PeerScript, host = '127.0.0.1'): Promise<PeerResult> {
  return new ScriptedPeer(port, host, script).done;
}

class ScriptedPeer {
  readonly done: Promise<PeerResult>;
  readonly #script: PeerScript;
  readonly #socket: Socket;
  readonly #parser = new FrameParser({ maxFrameBytes: 1 << 20, commandLine: true });
  readonly #uuid: string;
  readonly #start = Date.now();
  readonly #commands: string[] = [];
  readonly #bridges: string[] = [];
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();
  readonly #out: Array<{ data: string | Buffer; tickBefore: boolean }> = [];
  #resolve!: (r: PeerResult) => void;
  #pumping = false;
  #connected = false;
  #events = false;
  readonly #filters = new EventFilters();
  #linger = false;
  #hungUpUnlingered = false;
  #hungUp = false;
  #silent = false;
  #weClosed = false;
  #exitReceived = false;
  #deadlineHit = false;
  #injectedAt: number | undefined;
  #daemonHangupCause: string | undefined;
  #seq = 2000;
  /** The bridge app running (its Event-UUID) and whether it was answered. */
  #bridge: { uuid: string; answered: boolean } | undefined;

  constructor(port: number, host: string, script: PeerScript) {
    this.#script = script;
    this.#uuid = script.uuid ?? randomUUID();
    this.done = new Promise((resolve) => {
      this.#resolve = resolve;
    });
    this.#socket = netConnect({ host, port, noDelay: true });
    this.#socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    this.#socket.on('error', () => {});
    this.#socket.on('close', () => this.#onClose());
    this.#after(script.deadlineMs ?? 10_000, () => this.#close('deadline'));
  }

  #after(ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      fn();
    }, ms);
    this.#timers.add(timer);
  }

  // --- output, in order; `spaced` chunks each wait one event-loop turn -----------------------------------

  #send(data: string | Buffer, tickBefore = false): void {
    if (this.#silent || this.#weClosed || this.#socket.destroyed) return;
    this.#enqueue(data, tickBefore);
  }

  #enqueue(data: string | Buffer, tickBefore: boolean): void {
    this.#out.push({ data, tickBefore });
    if (!this.#pumping) this.#pump();
  }

  #pump(): void {
    while (this.#out.length > 0) {
      const item = this.#out[0]!;
      if (item.tickBefore) {
        item.tickBefore = false;
        this.#pumping = true;
        setImmediate(() => {
          this.#pumping = false;
          this.#pump();
        });
        return;
      }
      this.#out.shift();
      if (!this.#socket.destroyed && !this.#weClosed) this.#socket.write(item.data);
    }
  }

  #close(how: 'drop' | 'end' | 'deadline'): void {
    if (how === 'deadline') this.#deadlineHit = true;
    if (this.#weClosed) return;
    this.#weClosed = true;
    this.#out.length = 0;
    if (how === 'end') this.#socket.end();
    else this.#socket.destroy();
  }

  // --- input -------------------------------------------------------------------------------------------------

  #onData(chunk: Buffer): void {
    if (this.#silent || this.#weClosed) return;
    const result = this.#parser.push(chunk);
    for (const frame of result.frames) {
      if (this.#silent || this.#weClosed) return;
      this.#onFrame(frame);
    }
    if (!result.ok) this.#close('drop');
  }

  #onFrame(frame: EslFrame): void {
    const command = frame.command ?? '';
    this.#commands.push(command);
    const space = command.indexOf(' ');
    const verb = space === -1 ? command : command.slice(0, space);
    if (!this.#connected) {
      // The switch answers nothing before `connect` (NOTES §2).
      if (verb === 'connect') this.#step('connect', () => this.#onConnect());
      return;
    }
    switch (verb) {
      case 'linger':
        return this.#step('linger', () => {
          this.#linger = true;
          this.#send(replyFrame(`+OK will linger ${command.slice(space + 1)} seconds`));
        });
      case 'filter': {
        const [name = '', ...value] = command.slice(space + 1).split(' ');
        // The filter applies even when an injection replaces its reply (only `linger` and `event` change state).
        this.#filters.add(name, value.join(' '));
        return this.#step('filter', () => this.#send(replyFrame(`+OK filter added. [${name}]=[${value.join(' ')}]`)));
      }
      case 'event':
        return this.#step('event', () => {
          this.#events = true;
          this.#send(replyFrame('+OK event listener enabled json'));
        });
      case 'exit':
        this.#exitReceived = true;
        return this.#step('exit', () => {
          this.#send(replyFrame('+OK bye'));
          this.#sendDisconnect();
          this.#endAfterOutput();
        });
      case 'sendmsg':
        return this.#onSendmsg(frame.headers);
      default:
        return this.#send(replyFrame('-ERR command not found'));
    }
  }

  #onConnect(): void {
    this.#connected = true;
    const reply = connectReply(this.#uuid, this.#script.variables);
    if (this.#script.connectReplyByteByByte) {
      const bytes = Buffer.from(reply);
      for (let i = 0; i < bytes.length; i++) this.#send(bytes.subarray(i, i + 1), i > 0);
    } else {
      this.#send(reply);
    }
    this.#point('connected');
  }

  #onSendmsg(headers: ReadonlyMap<string, string>): void {
    const callCommand = (headers.get('call-command') ?? '').toLowerCase();
    if (callCommand === 'hangup') {
      this.#daemonHangupCause = headers.get('hangup-cause') ?? 'NORMAL_CLEARING';
      return this.#step('hangup', () => {
        this.#send(replyFrame('+OK'));
        this.#hangupA(this.#daemonHangupCause!);
      });
    }
    const app = headers.get('execute-app-name') ?? '';
    const arg = headers.get('execute-app-arg') ?? '';
    const appUuid = headers.get('Event-UUID') ?? randomUUID();
    if (app === 'bridge') {
      return this.#step('bridge', () => {
        this.#send(replyFrame('+OK'));
        if (!this.#hungUp) this.#runBridge(arg, appUuid);
      });
    }
    const step: PeerStep | undefined = app === 'multiset' ? 'multiset' : undefined;
    const run = (): void => {
      this.#send(replyFrame('+OK'));
      if (!this.#hungUp) this.#emit('CHANNEL_EXECUTE_COMPLETE', { Application: app, 'Application-Data': arg, 'Application-UUID': appUuid, 'Application-Response': '_none_' });
    };
    if (step) this.#step(step, run);
    else run();
  }

  #runBridge(arg: string, appUuid: string): void {
    const gateway = /sofia\/gateway\/([^/]+)\//.exec(arg)?.[1] ?? '';
    this.#bridges.push(gateway);
    const behaviour = this.#script.carriers?.[gateway] ?? 'answer';
    this.#bridge = { uuid: appUuid, answered: false };
    if (behaviour === 'answer') {
      this.#bridge.answered = true;
      this.#emit('CHANNEL_ANSWER', {});
      this.#emit('CHANNEL_BRIDGE', { 'Bridge-A-Unique-ID': this.#uuid, 'Bridge-B-Unique-ID': randomUUID() });
      this.#point('answered', () => {
        const talk = this.#script.talkMs ?? 0;
        if (talk > 0) this.#after(talk, () => this.#hangupA('NORMAL_CLEARING'));
        else this.#hangupA('NORMAL_CLEARING');
      });
      return;
    }
    const failure = FAILURES[behaviour];
    const finish = (): void => {
      if (this.#hungUp || this.#bridge?.uuid !== appUuid) return;
      this.#bridge = undefined;
      this.#emit('CHANNEL_EXECUTE_COMPLETE', {
        Application: 'bridge', 'Application-UUID': appUuid, 'Application-Response': '_none_',
        variable_originate_disposition: failure.cause, variable_originate_failed_cause: failure.cause,
        variable_sip_invite_failure_status: String(failure.status), variable_sip_invite_failure_phrase: failure.phrase,
        variable_last_bridge_proto_specific_hangup_cause: `sip:${failure.status}`,
      });
    };
    if (behaviour === 'silent') this.#after(this.#script.silentMs ?? 50, finish);
    else finish();
  }

  /** The A-leg hangs up: the real switch's sequence, then the linger notice (or disconnect and close). */
  #hangupA(cause: string): void {
    if (this.#hungUp) return;
    this.#hungUp = true;
    this.#emit('CHANNEL_HANGUP', { 'Hangup-Cause': cause });
    const bridge = this.#bridge;
    this.#bridge = undefined;
    if (bridge) {
      const disposition = bridge.answered ? 'SUCCESS' : 'ORIGINATOR_CANCEL';
      this.#emit('CHANNEL_EXECUTE_COMPLETE', {
        'Hangup-Cause': cause, Application: 'bridge', 'Application-UUID': bridge.uuid, 'Application-Response': '_none_',
        variable_originate_disposition: disposition,
      });
    }
    this.#emit('CHANNEL_HANGUP_COMPLETE', { 'Hangup-Cause': cause });
    if (!this.#linger) {
      this.#sendDisconnect();
      this.#hungUpUnlingered = true;
      this.#endAfterOutput();
      return;
    }
    this.#send(`Content-Type: text/disconnect-notice\nControlled-Session-UUID: ${this.#uuid}\n${LINGER_NOTICE_TAIL}Linger-Time: 1\nContent-Length: 0\n\n`);
    this.#point('lingering', () => {
      // The switch closes after Linger-Time; the daemon normally sends `exit` well before.
      this.#after(1000, () => {
        this.#sendDisconnect();
        this.#endAfterOutput();
      });
    });
  }

  #sendDisconnect(): void {
    this.#send(
      `Content-Type: text/disconnect-notice\nControlled-Session-UUID: ${this.#uuid}\nContent-Disposition: disconnect\n` +
        `Content-Length: ${Buffer.byteLength(DISCONNECT_BODY)}\n\n${DISCONNECT_BODY}`,
    );
  }

  #emit(name: string, extra: Record<string, string>): void {
    if (!this.#events || !this.#filters.passesRecord({ 'Unique-ID': this.#uuid, ...extra })) return;
    this.#send(
      jsonEventFrame({
        'Event-Name': name, 'Core-UUID': CORE_UUID, 'Event-Sequence': String(++this.#seq), 'Unique-ID': this.#uuid,
        'Channel-Call-UUID': this.#uuid, 'Channel-Name': 'loopback/campaign-b',
        'Answer-State': this.#hungUp ? 'hangup' : this.#bridge?.answered ? 'answered' : 'ringing', ...extra,
      }),
    );
  }

  // --- scripted points -----------------------------------------------------------------------------------

  /** A command step: drop, caller hangup (after the normal reply), or an injection around the reply. */
  #step(step: PeerStep, normal: () => void): void {
    const s = this.#script;
    if (s.dropAt === step) return this.#close('drop');
    const inj = s.inject?.at === step && this.#injectedAt === undefined ? s.inject : undefined;
    if (inj) {
      if (inj.where === 'after') normal();
      this.#inject(inj);
      if (inj.where === 'before' && !this.#silent && !this.#weClosed) normal();
    } else {
      normal();
    }
    if (s.hangupAt === step && !this.#weClosed && !this.#silent) {
      // Before connect the switch tears the channel and the socket down together.
      if (step === 'connect') this.#close('drop');
      else this.#hangupA('NORMAL_CLEARING');
    }
  }

  /** A non-command point (connected, answered, lingering): `next` is what the switch does next on its own. */
  #point(step: PeerStep, next?: () => void): void {
    this.#step(step, next ?? (() => {}));
  }

  #inject(inj: Injection): void {
    this.#injectedAt = Date.now();
    inj.chunks.forEach((chunk, i) => this.#enqueue(chunk, inj.spaced === true && i > 0));
    if (inj.then === 'continue') return;
    // Nothing more is said from here on; what is queued still goes out, then (for `close`) the socket ends.
    this.#silent = true;
    if (inj.then === 'close') this.#endAfterOutput();
    else if (this.#script.silentHoldMs !== undefined) this.#after(this.#script.silentHoldMs, () => this.#close('drop'));
  }

  #endAfterOutput(): void {
    if (this.#out.length > 0 || this.#pumping) return void setImmediate(() => this.#endAfterOutput());
    this.#close('end');
  }

  #onClose(): void {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    const now = Date.now();
    const end: PeerEnd = this.#deadlineHit
      ? 'deadline'
      : this.#exitReceived
        ? 'exit'
        : this.#weClosed
          ? this.#hungUpUnlingered ? 'switch_hung_up' : 'peer_closed'
          : 'daemon_closed';
    this.#resolve({
      uuid: this.#uuid,
      end,
      commands: this.#commands,
      bridges: this.#bridges,
      daemonHangupCause: this.#daemonHangupCause,
      injected: this.#injectedAt !== undefined,
      ms: now - this.#start,
      msAfterInjection: now - (this.#injectedAt ?? this.#start),
    });
  }
}
