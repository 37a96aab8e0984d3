/**
 * The built daemon set up for hostile runs: a two-carrier replica (carrier_a then carrier_b for prefix 1, so
 * the peer's per-gateway script decides answer / failover / busy), short ESL bounds so a stalled peer is cut
 * quickly, and helpers to wait for the sessions to drain and read RSS / fds. Used by test/hostile/* and the soak.
 * No tap imports.
 */
import type { ReplicaSpec } from '../../fixtures/replica.js';
import type { DaemonProcess } from '../../support/daemon-process.js';

/** Campaign camp1, lead lead1 (+1 415 555 0123), list CLI +1 212 555 0100; routes: carrier_a (1), carrier_b (2). */
export function hostileWorld(): ReplicaSpec {
  return {
    carriers: [
      { id: 'c_a', name: 'carrier_a' },
      { id: 'c_b', name: 'carrier_b' },
    ],
    routes: [
      { id: 'r1', prefix: '1', carrierId: 'c_a', priority: 1 },
      { id: 'r2', prefix: '1', carrierId: 'c_b', priority: 2 },
    ],
    campaigns: [{ id: 'camp1', name: 'Campaign One' }],
    leadLists: [{ id: 'list1', name: 'List One', callerId: '+12125550100' }],
    leads: [{ id: 'lead1', primaryPhone: '+14155550123' }],
  };
}

/** Channel variables of a routable call in `hostileWorld()`. */
export const CALL_VARS: Readonly<Record<string, string>> = { g2d_campaign_id: 'camp1', g2d_lead_id: 'lead1' };

/** Small ESL bounds (ms) so stalls end fast. */
export const HOSTILE_ESL = {
  max_frame_bytes: 65536,
  connect_timeout_ms: 300,
  command_timeout_ms: 1000,
  hangup_complete_wait_ms: 300,
  linger_seconds: 1,
} as const;

/** Config for `startDaemon`: HOSTILE_ESL, info logs (the ready line is info), then `patch` merged per section. */
export function hostileConfig(patch: Record<string, Record<string, unknown>> = {}): Record<string, unknown> {
  return { ...patch, esl: { ...HOSTILE_ESL, ...patch['esl'] }, log: { level: 'info', ...patch['log'] } };
}

/** Polls `callrouter_active_sessions` until 0 (or `timeoutMs`); returns the last value seen. */
export async function waitForIdle(d: DaemonProcess, timeoutMs = 10_000): Promise<number> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const active = (await d.metric('callrouter_active_sessions')) ?? NaN;
    if (active === 0 || Date.now() > until) return active;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * For the RSS-bounded runs: V8's own limits, not production's old-generation floor (NODE_FLAGS), which would let
 * up to ~115 MB of garbage stand before a full collection and hide a leak of that size behind it.
 */
export const LEAK_SENSITIVE_NODE_FLAGS: readonly string[] = [];

export interface ProcessFigures {
  rssMb: number;
  fds: number;
}

export function figures(d: DaemonProcess): ProcessFigures {
  return { rssMb: Math.round((d.rss() / 2 ** 20) * 10) / 10, fds: d.openFds() };
}

/** Sum of every sample of `name` in a /metrics text (all label sets). */
export function metricTotal(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

/** Every sample of `name` as `labels → value`. */
export function metricSamples(text: string, name: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    out[line.slice(name.length + 1, line.lastIndexOf('}'))] = Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return out;
}
