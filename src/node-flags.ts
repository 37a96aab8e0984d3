/**
 * The node flags the daemon runs with. package.json `start`, systemd/callrouter.service `ExecStart`, main.ts's
 * shebang (the `callrouter` bin) and the test and bench harness spell them the same way (test/node-flags.test.ts,
 * test/systemd/unit.test.ts and test/integration/npm-start.test.ts check); node refuses V8 heap flags in
 * NODE_OPTIONS, so they belong on the command line.
 *
 * --initial-old-space-size=128: V8 skips full (mark-compact) collections while its old generation is below this
 * size ("If the embedder pre-configures the initial old generation size, then allow V8 to skip full GCs below
 * that threshold", V8 src/heap/heap.cc). Every call leaves ~2 KB in the old generation until the next full
 * collection (much of it Node's own socket objects: a bare `net` server does the same), and without a floor V8 sets
 * its limit a few MB above the ~13 MB that stays live: at 1,000 calls/s a full collection every two or three
 * seconds, each stopping the event loop for several milliseconds while calls queue (README, Performance). With
 * the floor: one in a minute at that rate, for up to ~115 MB more resident memory (garbage not yet collected).
 */
export const NODE_FLAGS: readonly string[] = ['--initial-old-space-size=128'];

/** The option's name as V8 reads it (`--a_b=1` and `--a-b=1` are the same option). */
function optionName(flag: string): string {
  const eq = flag.indexOf('=');
  return (eq < 0 ? flag : flag.slice(0, eq)).replaceAll('_', '-');
}

/**
 * The flags of `wanted` that `execArgv` does not set. Any value of the same option counts as set: an operator who
 * chose another size chose it.
 */
export function missingNodeFlags(execArgv: readonly string[], wanted: readonly string[] = NODE_FLAGS): string[] {
  const given = new Set(execArgv.map(optionName));
  return wanted.filter((f) => !given.has(optionName(f)));
}
