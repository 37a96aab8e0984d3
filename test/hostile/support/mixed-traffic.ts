/**
 * Mixed call traffic with faults for long runs (the flat-resources test and the soak): answered calls, 503
 * failovers, busy, every carrier failing, silent carriers (408 after a while), caller hangups and TCP drops at
 * random steps, and garbage frames — each session drawn from a seeded PRNG, run by the scripted peer at a fixed
 * concurrency until a count or a time limit. No tap imports.
 */
import { cutForDelivery, fuzzBatch } from './frame-fuzz.js';
import type { Rng } from './prng.js';
import { PEER_STEPS, runPeer, type PeerEnd, type PeerScript } from './scripted-peer.js';

export const TRAFFIC_KINDS = ['answered', 'failover', 'busy', 'all_fail', 'silent', 'caller_hangup', 'drop', 'garbage'] as const;
export type TrafficKind = (typeof TRAFFIC_KINDS)[number];

export const DEFAULT_WEIGHTS: Readonly<Record<TrafficKind, number>> = {
  answered: 40, failover: 15, busy: 10, all_fail: 5, silent: 5, caller_hangup: 10, drop: 10, garbage: 5,
};

export interface TrafficOptions {
  readonly port: number;
  readonly rng: Rng;
  /** Channel variables of a routable call (carrier_a then carrier_b). */
  readonly variables: Readonly<Record<string, string>>;
  readonly maxFrameBytes: number;
  readonly concurrency: number;
  /** Stop after this many sessions... */
  readonly sessions?: number;
  /** ...or once this Date.now() is passed (whichever first). */
  readonly until?: number;
  readonly weights?: Readonly<Record<TrafficKind, number>>;
  /** A silent carrier fails this long after the bridge (ms; default 100). */
  readonly silentMs?: number;
  /** Called after each session (progress, sampling). */
  readonly onSession?: (done: number, kind: TrafficKind, end: PeerEnd) => void;
}

export interface TrafficTally {
  sessions: number;
  byKind: Record<TrafficKind, number>;
  byEnd: Record<PeerEnd, number>;
  /** Sessions nobody closed before the peer's deadline (leaks). */
  deadlines: number;
  elapsedMs: number;
}

/** One session's script of `kind`. */
export function scriptFor(kind: TrafficKind, rng: Rng, opts: Pick<TrafficOptions, 'variables' | 'maxFrameBytes' | 'silentMs'>, uuid: string): PeerScript {
  const base = { uuid, variables: opts.variables, deadlineMs: 20_000, silentMs: opts.silentMs ?? 100 };
  switch (kind) {
    case 'answered':
      return { ...base, talkMs: rng.int(0, 20) };
    case 'failover':
      return { ...base, carriers: { carrier_a: 'unavailable' } };
    case 'busy':
      return { ...base, carriers: { carrier_a: 'busy' } };
    case 'all_fail':
      return { ...base, carriers: { carrier_a: 'unavailable', carrier_b: 'unavailable' } };
    case 'silent':
      return { ...base, carriers: { carrier_a: 'silent' } };
    case 'caller_hangup':
      return { ...base, hangupAt: rng.pick(PEER_STEPS), talkMs: 20 };
    case 'drop':
      return { ...base, dropAt: rng.pick(PEER_STEPS), talkMs: 20 };
    case 'garbage': {
      const frames = fuzzBatch(rng, rng.int(1, 4), { uuid, maxFrameBytes: opts.maxFrameBytes });
      const cut = cutForDelivery(rng, frames, rng.pick(['coalesced', 'separate', 'random_split'] as const));
      return {
        ...base, talkMs: 20, silentHoldMs: 3000,
        inject: { at: rng.pick(PEER_STEPS), where: rng.pick(['before', 'after'] as const), chunks: cut.chunks, spaced: cut.spaced, then: rng.pick(['continue', 'continue', 'silent', 'close'] as const) },
      };
    }
  }
}

/** Runs mixed sessions until `sessions` or `until`; resolves with the tally once every session has ended. */
export async function runMixedTraffic(opts: TrafficOptions): Promise<TrafficTally> {
  const weights = opts.weights ?? DEFAULT_WEIGHTS;
  const tally: TrafficTally = {
    sessions: 0,
    byKind: Object.fromEntries(Object.keys(weights).map((k) => [k, 0])) as Record<TrafficKind, number>,
    byEnd: { exit: 0, daemon_closed: 0, peer_closed: 0, switch_hung_up: 0, deadline: 0 },
    deadlines: 0,
    elapsedMs: 0,
  };
  const start = Date.now();
  let started = 0;
  const more = (): boolean => (opts.sessions === undefined || started < opts.sessions) && (opts.until === undefined || Date.now() < opts.until);
  const worker = async (): Promise<void> => {
    while (more()) {
      const i = started++;
      const kind = opts.rng.weighted(weights);
      const result = await runPeer(opts.port, scriptFor(kind, opts.rng, opts, `mixed-${opts.rng.seed}-${i}`));
      tally.sessions++;
      tally.byKind[kind]++;
      tally.byEnd[result.end]++;
      if (result.end === 'deadline') tally.deadlines++;
      opts.onSession?.(tally.sessions, kind, result.end);
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, worker));
  tally.elapsedMs = Date.now() - start;
  return tally;
}
