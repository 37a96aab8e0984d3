/**
 * What the session knows about its A-leg, kept up to date from the connection's events and notices, with
 * state-based waits (`until`). One listener per connection instead of one waiter per event: the connection's
 * look-back is small and events of interest can arrive in any order (NOTES §9), so the state remembers them.
 *
 * `dispose()` removes the listeners, clears every timer and resolves pending waits; nothing is left behind.
 */
import type { EslEvent } from '../esl/channel-data.js';
import { DEFAULT_TIMERS, type EslTimers, type OutboundConnection } from '../esl/connection.js';

/** Timing of the attempt in progress (ms from the injected clock); null until seen. */
export interface AttemptTiming {
  bridgedAt: number | null;
}

export class ChannelWatch {
  readonly #uuid: string;
  readonly #now: () => number;
  readonly #timers: EslTimers;
  readonly #waiters = new Set<() => void>();
  readonly #timersPending = new Set<unknown>();
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

  constructor(conn: OutboundConnection, uuid: string, now: () => number, timers: EslTimers = DEFAULT_TIMERS) {
    this.#uuid = uuid;
    this.#now = now;
    this.#timers = timers;
    this.#off.push(conn.onEvent((e) => this.#onEvent(e)));
    this.#off.push(
      conn.onNotice((n) => {
        if (n.disposition === 'linger') this.lingered = true;
        this.#notify();
      }),
    );
    void conn.closed.then(() => {
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

  /**
   * Resolves true as soon as `cond()` holds, false after `timeoutMs` (null = no bound) or once the connection
   * closed or the watch was disposed without it holding. Never rejects.
   */
  until(cond: () => boolean, timeoutMs: number | null): Promise<boolean> {
    if (cond()) return Promise.resolve(true);
    if (this.closed || this.#disposed) return Promise.resolve(false);
    return new Promise((resolve) => {
      let timer: unknown;
      const finish = (value: boolean): void => {
        this.#waiters.delete(check);
        if (timer !== undefined) {
          this.#timers.clearTimeout(timer);
          this.#timersPending.delete(timer);
        }
        resolve(value);
      };
      const check = (): void => {
        if (cond()) finish(true);
        else if (this.closed || this.#disposed) finish(false);
      };
      this.#waiters.add(check);
      if (timeoutMs !== null) {
        timer = this.#timers.setTimeout(() => {
          this.#timersPending.delete(timer);
          timer = undefined;
          finish(cond());
        }, timeoutMs);
        this.#timersPending.add(timer);
      }
    });
  }

  /** Removes the listeners, clears timers, resolves every pending wait with its current condition. Idempotent. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    for (const off of this.#off) off();
    this.#off.length = 0;
    this.#notify();
    for (const timer of this.#timersPending) this.#timers.clearTimeout(timer);
    this.#timersPending.clear();
    this.#completes.clear();
  }

  #notify(): void {
    for (const check of [...this.#waiters]) check();
  }

  #onEvent(event: EslEvent): void {
    // The filter should deliver only our channel's events; anything else is ignored, never trusted.
    if (event.headers.get('Unique-ID') !== this.#uuid) return;
    const at = this.#now();
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
        if (attempt && attempt.bridgedAt === null) attempt.bridgedAt = at;
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
