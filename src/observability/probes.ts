/**
 * Health/readiness probe results and the stock probes built from our own pieces. Probes are plain
 * synchronous functions injected into the HTTP server, so tests drive them without sockets or clocks.
 */

/** One check's verdict. `reason` is a short human sentence (never secrets, never call data). */
export type ProbeResult =
  | { ok: true; detail?: Record<string, unknown> }
  | { ok: false; reason: string; detail?: Record<string, unknown> };

export type Probe = () => ProbeResult;

/** Run probes by name; a throwing probe counts as failed with its message. */
export function runProbes(probes: Readonly<Record<string, Probe>>): { ok: boolean; checks: Record<string, ProbeResult> } {
  const checks: Record<string, ProbeResult> = {};
  let ok = true;
  for (const [name, probe] of Object.entries(probes)) {
    let r: ProbeResult;
    try {
      r = probe();
    } catch (err) {
      r = { ok: false, reason: `probe failed: ${(err as Error)?.message ?? String(err)}` };
    }
    checks[name] = r;
    ok &&= r.ok;
  }
  return { ok, checks };
}

/** Readiness of a listener: `isListening()` is the ESL server's own flag. */
export function listenerProbe(what: string, isListening: () => boolean): Probe {
  return () => (isListening() ? { ok: true } : { ok: false, reason: `${what} is not listening` });
}
