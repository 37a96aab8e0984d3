/**
 * `npx tsx scripts/bench/cpu-profile-summary.ts <file.cpuprofile> [top N] [--skip F] [--us-per-call U]` — where a
 * V8 CPU profile's busy time went: self time per function (top N, default 30) and per area (a folder of dist/, a
 * dependency, Node's streams or net code, a native call such as the write syscalls, GC), as a share of the
 * non-idle samples, then the total (inclusive) time of the daemon's own functions (dist/). Made for
 * `npm run bench:esl -- --saturation-only --cpu-prof DIR`, which profiles the daemon under saturation; README's
 * percentages of the daemon's CPU come from it.
 *
 * `--skip F` drops the first fraction F of the profile's time (e.g. 0.3: start-up and the warm-up, while V8 has
 * not optimized the code yet, out of a saturation run). `--us-per-call U` also prints each share as µs of a call
 * of U µs (the run's "CPU µs per call"): a share times U, an estimate (the profiler's sampling included).
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

function areaOf(frame: ProfileNode['callFrame']): string {
  const { functionName: fn, url } = frame;
  if (fn === '(garbage collector)' || fn === '(program)') return fn;
  if (url === '') return `native ${fn}`;
  if (url.includes('/dist/')) return url.split('/dist/')[1]!.split('/').slice(0, -1).join('/') || 'dist';
  if (url.includes('node_modules/')) return url.split('node_modules/')[1]!.split('/')[0]!;
  if (url.startsWith('node:')) return url.includes('stream') ? 'node streams' : `node ${url.slice(5).split('/')[0]}`;
  return url.split('/').slice(-2).join('/');
}

const nameOf = (frame: ProfileNode['callFrame']): string =>
  `${frame.functionName || '(anonymous)'} ${frame.url.split('/').slice(-2).join('/')}:${frame.lineNumber}`;

function option(name: string): number | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : undefined;
}

const positional = process.argv.slice(2).filter((a, i, all) => !a.startsWith('--') && !(all[i - 1] ?? '').startsWith('--'));
const [file, topArg] = positional;
if (file === undefined) {
  process.stderr.write('usage: cpu-profile-summary <file.cpuprofile> [top N] [--skip F] [--us-per-call U]\n');
  process.exit(2);
}
const skip = option('--skip') ?? 0;
const usPerCall = option('--us-per-call');
const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parentOf = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parentOf.set(c, n.id);

const totalTime = profile.timeDeltas.reduce((a, b) => a + b, 0);
const selfTime = new Map<number, number>();
let elapsed = 0;
profile.samples.forEach((id, i) => {
  const dt = profile.timeDeltas[i] ?? 0;
  elapsed += dt;
  if (elapsed >= totalTime * skip) selfTime.set(id, (selfTime.get(id) ?? 0) + dt);
});

let busy = 0;
let idle = 0;
const perFunction = new Map<string, number>();
const perArea = new Map<string, number>();
/** Inclusive time of the daemon's own functions: a sample counts once per function on its stack. */
const ownTotal = new Map<string, number>();
for (const [id, t] of selfTime) {
  const frame = byId.get(id)!.callFrame;
  if (frame.functionName === '(idle)') {
    idle += t;
    continue;
  }
  busy += t;
  const name = nameOf(frame);
  perFunction.set(name, (perFunction.get(name) ?? 0) + t);
  perArea.set(areaOf(frame), (perArea.get(areaOf(frame)) ?? 0) + t);
  const onStack = new Set<string>();
  for (let at: number | undefined = id; at !== undefined; at = parentOf.get(at)) {
    const f = byId.get(at)!.callFrame;
    if (f.url.includes('/dist/')) onStack.add(nameOf(f));
  }
  for (const n of onStack) ownTotal.set(n, (ownTotal.get(n) ?? 0) + t);
}
const share = (t: number): string =>
  `${((100 * t) / busy).toFixed(1).padStart(5)}%${usPerCall === undefined ? '' : ` ${((usPerCall * t) / busy).toFixed(1).padStart(6)} µs`}`;
const top = (m: Map<string, number>, n: number): [string, number][] => [...m].sort((a, b) => b[1] - a[1]).slice(0, n);
const n = Number(topArg ?? 30);
process.stdout.write(
  `busy ${((100 * busy) / (busy + idle)).toFixed(1)}% of the samples${skip > 0 ? ` after the first ${(100 * skip).toFixed(0)}% of the time` : ''}; shares below are of busy time\n\nby area\n`,
);
for (const [area, t] of top(perArea, 25)) process.stdout.write(`${share(t)}  ${area}\n`);
process.stdout.write('\nby function (self time)\n');
for (const [name, t] of top(perFunction, n)) process.stdout.write(`${share(t)}  ${name}\n`);
process.stdout.write("\nthe daemon's own functions (total time, callees included)\n");
for (const [name, t] of top(ownTotal, n)) process.stdout.write(`${share(t)}  ${name}\n`);
