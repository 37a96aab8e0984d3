/**
 * A lean FreeSWITCH peer for load: places outbound-socket calls at a daemon port and speaks the wire protocol as
 * the fake FreeSWITCH does (same connect reply — the captured CHANNEL_DATA dump, same reply texts, JSON events
 * carrying the whole channel like the real switch's), but without recording frames or simulating carriers, so
 * one core can drive thousands of calls per second. Only the events the daemon subscribed to are sent.
 *
 * Per call, after the bridge command: CHANNEL_EXECUTE, CHANNEL_ANSWER, CHANNEL_BRIDGE; then, at once (`turnover`)
 * or when `release()`d (`hold`), the callee hangs up: CHANNEL_UNBRIDGE, CHANNEL_HANGUP, the bridge's and the socket
 * app's CHANNEL_EXECUTE_COMPLETE, CHANNEL_HANGUP_COMPLETE, the linger notice; on `exit`, `+OK bye`, the disconnect
 * notice and the close. Timing: `startedAt` is taken right before the TCP connect, `connectAt` when the daemon's
 * `connect` is parsed, `connectReplyAt` once the connect reply is handed to the socket, `bridgeAt` when the bridge
 * command is parsed (performance.now(), ms).
 */
import { randomUUID } from 'node:crypto';
import { connect as netConnect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { encodeEslValue } from '../../src/esl/channel-data.js';
import { FrameParser, type EslFrame } from '../../src/esl/frame-parser.js';
import { CONNECT_REPLY_TEMPLATE } from '../../test/fake-freeswitch/channel-template.js';
import { EventFilters } from '../../test/fake-freeswitch/event-filter.js';

export interface PeerCallResult {
  readonly startedAt: number;
  /** When the bridge command arrived; undefined if it never did. */
  readonly bridgeAt: number | undefined;
  /** When the daemon's `connect` command was parsed, and when the connect reply was handed to the socket. */
  readonly connectAt: number | undefined;
  readonly connectReplyAt: number | undefined;
  readonly endedAt: number;
  readonly bridgeArg: string | undefined;
  /** Bridged, then `exit` received before the close. */
  readonly ok: boolean;
}

export interface PeerCallOptions {
  readonly variables: Readonly<Record<string, string>>;
  /** Hold the call bridged until `release()` (default: the callee hangs up at once). */
  readonly hold?: boolean;
  /** Called once the bridge command arrived and the answer/bridge events were sent. */
  readonly onBridged?: () => void;
  readonly localAddress?: string;
  /**
   * The peer drops the call if it is not over (or, held, not bridged) this long after the connect (default 15 s):
   * a connection whose handshake ACK the daemon's full accept queue dropped would otherwise wait forever.
   */
  readonly timeoutMs?: number;
}

export interface PeerCall {
  readonly done: Promise<PeerCallResult>;
  /** The callee hangs up a held call now. */
  release(): void;
  /** Drop the TCP connection. */
  destroy(): void;
}

const UUID_MARK = '@@UUID@@';
const DISCONNECT_BODY = 'Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n';
const SKIPPED_IN_EVENTS = new Set(['Event-Name', 'Event-Sequence', 'Content-Type', 'Reply-Text', 'Socket-Mode', 'Control']);

/** Precomputed per-run text: the connect reply and the channel part of every event, with UUID marks. */
export interface PeerTemplates {
  readonly connectHead: string;
  readonly connectTail: string;
  readonly eventChannel: string;
  /** The same after the A-leg's hangup: `Answer-State: hangup`, state number 10, still CS_EXECUTE / ACTIVE (4a). */
  readonly eventChannelHungUp: string;
}

/** Builds the templates (dates fixed at build time: the daemon never reads them). */
export function buildPeerTemplates(): PeerTemplates {
  const now = new Date();
  const iso = now.toISOString();
  const subs: Record<string, string> = {
    '@CORE_UUID': '11fefc03-ebe0-4607-8e2d-5b005bbafc9b', '@OTHER_UUID': randomUUID(), '@UUID': UUID_MARK,
    '@DATE_LOCAL': `${iso.slice(0, 10)} ${iso.slice(11, 19)}`, '@DATE_GMT': now.toUTCString(),
    '@TIMESTAMP': String(now.getTime() * 1000), '@SEQ': '1001', '@CALL_STATE': 'RINGING', '@STATE_NUMBER': '4',
    '@STATE': 'CS_EXECUTE', '@ANSWER_STATE': 'ringing',
  };
  const hungUp: Record<string, string> = { ...subs, '@CALL_STATE': 'ACTIVE', '@STATE_NUMBER': '10', '@ANSWER_STATE': 'hangup' };
  let head = '';
  let tail = '';
  let inTail = false;
  const channel: Record<string, string> = {};
  const channelHungUp: Record<string, string> = {};
  for (const [name, value] of CONNECT_REPLY_TEMPLATE) {
    if (name === '@ORIGINATE_VARIABLES') {
      inTail = true;
      continue;
    }
    const v = subs[value] ?? value;
    const line = `${name}: ${v === UUID_MARK ? UUID_MARK : encodeEslValue(v)}\n`;
    if (inTail) tail += line;
    else head += line;
    if (!SKIPPED_IN_EVENTS.has(name)) {
      channel[name] = v;
      channelHungUp[name] = hungUp[value] ?? value;
    }
  }
  return {
    connectHead: head, connectTail: `${tail}\n`,
    eventChannel: JSON.stringify(channel).slice(1, -1), eventChannelHungUp: JSON.stringify(channelHungUp).slice(1, -1),
  };
}

/** Places calls at `port`; one instance per run. */
export class LoadPeer {
  readonly #port: number;
  readonly #t: PeerTemplates;

  constructor(port: number, templates: PeerTemplates = buildPeerTemplates()) {
    this.#port = port;
    this.#t = templates;
  }

  call(options: PeerCallOptions): PeerCall {
    return new OneCall(this.#port, this.#t, options);
  }
}

class OneCall implements PeerCall {
  readonly done: Promise<PeerCallResult>;
  readonly #socket: Socket;
  readonly #parser = new FrameParser({ maxFrameBytes: 1 << 20, commandLine: true });
  readonly #t: PeerTemplates;
  readonly #opts: PeerCallOptions;
  readonly #uuid = randomUUID();
  readonly #startedAt = performance.now();
  #channelJson = '';
  #channelJsonHungUp = '';
  #resolve!: (r: PeerCallResult) => void;
  #connected = false;
  #subscribed = new Set<string>();
  readonly #filters = new EventFilters();
  #all = false;
  #linger: number | undefined;
  #seq = 2000;
  #parked = false;
  #bridgeAt: number | undefined;
  #connectAt: number | undefined;
  #connectReplyAt: number | undefined;
  #bridgeArg: string | undefined;
  #bridgeAppUuid = '';
  #held = false;
  #hungUp = false;
  #exit = false;
  #closed = false;
  #out = '';
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(port: number, t: PeerTemplates, opts: PeerCallOptions) {
    this.#t = t;
    this.#opts = opts;
    this.done = new Promise((resolve) => {
      this.#resolve = resolve;
    });
    this.#socket = netConnect({ host: '127.0.0.1', port, noDelay: true, ...(opts.localAddress ? { localAddress: opts.localAddress } : {}) });
    this.#socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    this.#socket.on('error', () => {});
    this.#socket.on('close', () => this.#onClose());
    this.#timer = setTimeout(() => this.#socket.destroy(), opts.timeoutMs ?? 15_000);
  }

  release(): void {
    if (this.#held && !this.#hungUp) {
      this.#held = false;
      this.#hangup('NORMAL_CLEARING');
      this.#flush();
    }
  }

  destroy(): void {
    this.#socket.destroy();
  }

  #onData(chunk: Buffer): void {
    const r = this.#parser.push(chunk);
    for (const frame of r.frames) this.#onFrame(frame);
    this.#flush();
    if (!r.ok) this.#socket.destroy();
  }

  #flush(): void {
    if (this.#out === '' || this.#closed) return;
    this.#socket.write(this.#out);
    this.#out = '';
  }

  #reply(text: string): void {
    this.#out += `Content-Type: command/reply\nReply-Text: ${text}\n\n`;
  }

  #onFrame(frame: EslFrame): void {
    const command = frame.command ?? '';
    const sp = command.indexOf(' ');
    const verb = sp === -1 ? command : command.slice(0, sp);
    const args = sp === -1 ? [] : command.slice(sp + 1).split(' ');
    if (!this.#connected) {
      if (verb === 'connect') {
        this.#connectAt = performance.now();
        this.#onConnect();
        this.#flush();
        this.#connectReplyAt = performance.now();
      }
      return;
    }
    switch (verb) {
      case 'linger':
        this.#linger = Number(args[0] ?? -1);
        return this.#reply(`+OK will linger ${this.#linger} seconds`);
      case 'filter':
        this.#filters.add(args[0] ?? '', args.slice(1).join(' '));
        return this.#reply(`+OK filter added. [${args[0] ?? ''}]=[${args.slice(1).join(' ')}]`);
      case 'event':
        for (const name of args.slice(1)) {
          if (name === 'ALL') this.#all = true;
          this.#subscribed.add(name);
        }
        return this.#reply('+OK event listener enabled json');
      case 'myevents':
        this.#all = true;
        return this.#reply('+OK Events Enabled');
      case 'nolinger':
        this.#linger = undefined;
        return this.#reply('+OK will not linger');
      case 'exit':
        this.#exit = true;
        this.#reply('+OK bye');
        this.#out +=
          `Content-Type: text/disconnect-notice\nControlled-Session-UUID: ${this.#uuid}\nContent-Disposition: disconnect\n` +
          `Content-Length: ${DISCONNECT_BODY.length}\n\n${DISCONNECT_BODY}`;
        this.#flush();
        this.#socket.end();
        return;
      case 'sendmsg':
        return this.#onSendmsg(frame);
      default:
        return this.#reply('+OK');
    }
  }

  #onConnect(): void {
    this.#connected = true;
    this.#channelJson = this.#t.eventChannel.replaceAll(UUID_MARK, this.#uuid);
    this.#channelJsonHungUp = this.#t.eventChannelHungUp.replaceAll(UUID_MARK, this.#uuid);
    let vars = '';
    for (const [k, v] of Object.entries(this.#opts.variables)) vars += `variable_${k}: ${encodeEslValue(v)}\n`;
    this.#out += this.#t.connectHead.replaceAll(UUID_MARK, this.#uuid) + vars + this.#t.connectTail.replaceAll(UUID_MARK, this.#uuid);
  }

  #onSendmsg(frame: EslFrame): void {
    const h = frame.headers;
    const cc = (h.get('call-command') ?? '').toLowerCase();
    this.#reply('+OK');
    if (cc === 'hangup') return this.#hangup(h.get('hangup-cause') ?? 'NORMAL_CLEARING');
    if (cc !== 'execute' || this.#hungUp) return;
    const app = h.get('execute-app-name') ?? '';
    const arg = h.get('execute-app-arg') ?? '';
    const appUuid = h.get('Event-UUID') ?? h.get('event-uuid') ?? randomUUID();
    if (!this.#parked) {
      this.#parked = true;
      this.#emit('CHANNEL_PARK', '');
    }
    const appHeaders = `"Application":${JSON.stringify(app)},"Application-Data":${JSON.stringify(arg)},"Application-UUID":"${appUuid}"`;
    this.#emit('CHANNEL_EXECUTE', appHeaders, app);
    if (app !== 'bridge') {
      this.#emit('CHANNEL_EXECUTE_COMPLETE', `${appHeaders},"Application-Response":"_none_"`, app);
      return;
    }
    this.#bridgeAt = performance.now();
    this.#bridgeArg = arg;
    this.#bridgeAppUuid = appHeaders;
    const b = randomUUID();
    this.#emit('CHANNEL_ANSWER', '');
    this.#emit('CHANNEL_BRIDGE', `"Bridge-A-Unique-ID":"${this.#uuid}","Bridge-B-Unique-ID":"${b}","Other-Leg-Unique-ID":"${b}"`);
    this.#opts.onBridged?.();
    if (this.#opts.hold) {
      clearTimeout(this.#timer);
      this.#held = true;
      return;
    }
    // The callee hangs up right away, in the switch's next write.
    setImmediate(() => {
      this.#hangup('NORMAL_CLEARING');
      this.#flush();
    });
  }

  #hangup(cause: string): void {
    if (this.#hungUp || this.#closed) return;
    this.#hungUp = true;
    const c = `"Hangup-Cause":"${cause}"`;
    if (this.#bridgeAt !== undefined) {
      this.#emit('CHANNEL_UNBRIDGE', c);
      this.#emit('CHANNEL_HANGUP', c);
      this.#emit('CHANNEL_EXECUTE_COMPLETE', `${c},${this.#bridgeAppUuid},"Application-Response":"_none_","variable_originate_disposition":"SUCCESS"`, 'bridge');
    } else {
      this.#emit('CHANNEL_HANGUP', c);
    }
    this.#emit('CHANNEL_EXECUTE_COMPLETE', `${c},"Application":"socket","Application-Data":"127.0.0.1:8084 async full","Application-Response":"_none_","Application-UUID":"${randomUUID()}"`, 'socket');
    this.#emit('CHANNEL_HANGUP_COMPLETE', c);
    if (this.#linger === undefined) {
      this.#socket.end();
      return;
    }
    this.#out +=
      `Content-Type: text/disconnect-notice\nControlled-Session-UUID: ${this.#uuid}\nContent-Disposition: linger\n` +
      `Channel-Name: loopback/campaign-b\nLinger-Time: ${this.#linger}\nContent-Length: 0\n\n`;
  }

  /** Sends event `name` if subscribed and the socket's filters pass it (`app`: its Application header, if any). */
  #emit(name: string, extra: string, app?: string): void {
    if (!this.#all && !this.#subscribed.has(name)) return;
    if (!this.#filters.passes((h) => (h === 'unique-id' ? this.#uuid : h === 'event-name' ? name : h === 'application' ? app : undefined))) return;
    const channel = this.#hungUp ? this.#channelJsonHungUp : this.#channelJson;
    const body = `{"Event-Name":"${name}","Event-Sequence":"${++this.#seq}",${extra === '' ? '' : `${extra},`}${channel}}`;
    this.#out += `Content-Length: ${Buffer.byteLength(body)}\nContent-Type: text/event-json\n\n${body}`;
  }

  #onClose(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#resolve({
      startedAt: this.#startedAt,
      bridgeAt: this.#bridgeAt,
      connectAt: this.#connectAt,
      connectReplyAt: this.#connectReplyAt,
      endedAt: performance.now(),
      bridgeArg: this.#bridgeArg,
      ok: this.#bridgeAt !== undefined && this.#exit,
    });
  }
}
