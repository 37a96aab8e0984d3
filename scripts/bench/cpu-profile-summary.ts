/**
 * `npx tsx scripts/bench/cpu-profile-summary.ts <file.cpuprofile> [top N]` — where a V8 CPU profile's busy time
 * went: self time per function (top N, default 30) and per area (a folder of dist/, a dependency, Node's streams
 * or net code, a native call such as the write syscalls, GC), as a share of the non-idle samples. Made for
 * `npm run bench:esl -- --saturation-only --cpu-prof DIR`, which profiles the daemon under saturation; README's
 * percentages of the daemon's CPU come from it.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
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

const [file, topArg] = process.argv.slice(2);
if (file === undefined) {
  process.stderr.write('usage: cpu-profile-summary <file.cpuprofile> [top N]\n');
  process.exit(2);
}
const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const selfTime = new Map<number, number>();
profile.samples.forEach((id, i) => selfTime.set(id, (selfTime.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));

let busy = 0;
let idle = 0;
const perFunction = new Map<string, number>();
const perArea = new Map<string, number>();
for (const [id, t] of selfTime) {
  const frame = byId.get(id)!.callFrame;
  if (frame.functionName === '(idle)') {
    idle += t;
    continue;
  }
  busy += t;
  const name = `${frame.functionName || '(anonymous)'} ${frame.url.split('/').slice(-2).join('/')}:${frame.lineNumber}`;
  perFunction.set(name, (perFunction.get(name) ?? 0) + t);
  perArea.set(areaOf(frame), (perArea.get(areaOf(frame)) ?? 0) + t);
}
const share = (t: number): string => `${((100 * t) / busy).toFixed(1).padStart(5)}%`;
const top = (m: Map<string, number>, n: number): [string, number][] => [...m].sort((a, b) => b[1] - a[1]).slice(0, n);
process.stdout.write(`busy ${((100 * busy) / (busy + idle)).toFixed(1)}% of the samples; shares below are of busy time\n\nby area\n`);
for (const [area, t] of top(perArea, 25)) process.stdout.write(`${share(t)}  ${area}\n`);
process.stdout.write('\nby function (self time)\n');
for (const [name, t] of top(perFunction, Number(topArg ?? 30))) process.stdout.write(`${share(t)}  ${name}\n`);
