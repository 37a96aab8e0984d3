/**
 * What the session knows about its A-leg, kept up to date from the connection's events and notices. One listener
 * per connection instead of one waiter per event: events of interest can arrive in any order (NOTES §9), so the
 * state remembers them; the session is told of every change (`onChange`) and looks at the state it needs.
 *
 * `dispose()` removes the listeners; nothing is left behind.
 */
import type { EslEvent } from '../esl/channel-data.js';
import type { OutboundConnection } from '../esl/connection.js';

/** Timing of the attempt in progress (ms from the injected clock); null until seen. */
export interface AttemptTiming {
  bridgedAt: number | null;
}

export class ChannelWatch {
  readonly #uuid: string;
  readonly #now: () => number;
  readonly #onChange: () => void;
  readonly #off: Array<() => void> = [];
  /** CHANNEL_EXECUTE_COMPLETE events by Application-UUID. */
  readonly #completes = new Map<string, EslEvent>();
  #attempt: AttemptTiming | undefined;
  #disposed = false;

  /** The A-leg hung up: an event of it said `Answer-State: hangup` (or was CHANNEL_HANGUP / _COMPLETE). */
  hungUp = false;
  /** A linger notice arrived: the channel hung up (its events may still be on the way). */
  lingered = false;
  hangupComplete = false;
  closed = false;

  constructor(conn: OutboundConnection, uuid: string, now: () => number, onChange: () => void = () => {}) {
    this.#uuid = uuid;
    this.#now = now;
    this.#onChange = onChange;
    this.#off.push(conn.onEvent((e) => this.#onEvent(e)));
    this.#off.push(
      conn.onNotice((n) => {
        if (n.disposition === 'linger') this.lingered = true;
        this.#notify();
      }),
    );
    conn.onClosed(() => {
      this.closed = true;
      this.#notify();
    });
    if (conn.isClosed) this.closed = true;
  }

  /** The caller's side is gone: an event after its hangup, or the linger notice (which can come first, NOTES §9). */
  get aLegGone(): boolean {
    return this.hungUp || this.lingered;
  }

  /** Starts timing a new attempt (call right before sending its bridge). */
  beginAttempt(): AttemptTiming {
    this.#attempt = { bridgedAt: null };
    return this.#attempt;
  }

  /** The CHANNEL_EXECUTE_COMPLETE of the app sent with `eventUuid`, if it arrived. */
  completion(eventUuid: string): EslEvent | undefined {
    return this.#completes.get(eventUuid);
  }

  /** Removes the listeners and forgets the events; no further `onChange`. Idempotent. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    for (const off of this.#off) off();
    this.#off.length = 0;
    this.#completes.clear();
  }

  #notify(): void {
    if (!this.#disposed) this.#onChange();
  }
  #onEvent(event: EslEvent): void {
    // The filter should deliver only our channel's events; anything else is ignored, never trusted.
    if (event.headers.get('Unique-ID') !== this.#uuid) return;
    const attempt = this.#attempt;
    // Every event the switch sends after the A-leg's hangup carries this, the bridge's completion included.
    if (event.headers.get('Answer-State') === 'hangup') this.hungUp = true;
    switch (event.name) {
      case 'CHANNEL_EXECUTE_COMPLETE': {
        const appUuid = event.headers.get('Application-UUID');
        if (appUuid !== undefined && this.#completes.size < 64) this.#completes.set(appUuid, event);
        break;
      }
      case 'CHANNEL_BRIDGE':
        // The clock is read only here: the other events need no time.
        if (attempt && attempt.bridgedAt === null) attempt.bridgedAt = this.#now();
        break;
      case 'CHANNEL_HANGUP':
        // Not subscribed (SESSION_EVENTS), but a switch that sends it anyway is saying the same thing.
        this.hungUp = true;
        break;
      case 'CHANNEL_HANGUP_COMPLETE':
        this.hungUp = true;
        this.hangupComplete = true;
        break;
      default:
        return;
    }
    this.#notify();
  }
}
