/**
 * `npx tsx scripts/bench/alloc-profile-summary.ts <file.heapprofile> --calls N [top K]` — where the bytes a
 * sampled window allocated went, per call: each sample is charged to the nearest of callrouter's own functions
 * (dist/) on its stack — what the daemon's code made Node, V8 or a dependency allocate counts as the daemon
 * function's — or, with none on the stack, to the allocating function itself. Made for the profile that
 * `npx tsx scripts/bench-esl.ts --saturation-only --alloc-prof FILE` writes, which prints N.
 */
import { readFileSync } from 'node:fs';

interface SamplingNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: SamplingNode[];
}

function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const file = process.argv[2];
const calls = Number(argValue('--calls'));
const top = Number(process.argv.find((a, i) => i > 2 && /^\d+$/.test(a) && process.argv[i - 1] !== '--calls') ?? 30);
if (!file || !(calls > 0)) {
  process.stderr.write('usage: alloc-profile-summary.ts <file.heapprofile> --calls N [top K]\n');
  process.exit(2);
}
const profile = JSON.parse(readFileSync(file, 'utf8')) as { head: SamplingNode };
const byOwner = new Map<string, number>();
let total = 0;
const walk = (node: SamplingNode, owner: string | undefined): void => {
  const { functionName, url, lineNumber } = node.callFrame;
  const here = url.includes('/dist/') ? `${functionName || '(anonymous)'} ${url.split('/dist/')[1]}:${lineNumber + 1}` : undefined;
  const charged = here ?? owner;
  if (node.selfSize > 0) {
    const key = charged ?? `(outside callrouter) ${functionName || '(anonymous)'} ${url.split('/').slice(-2).join('/')}`;
    byOwner.set(key, (byOwner.get(key) ?? 0) + node.selfSize);
    total += node.selfSize;
  }
  for (const child of node.children) walk(child, charged);
};
walk(profile.head, undefined);
const lines = [`allocated ${Math.round(total / calls)} bytes per call (${calls} calls), by the daemon's function on the stack:`];
for (const [key, bytes] of [...byOwner].sort((a, b) => b[1] - a[1]).slice(0, top)) {
  lines.push(`${String(Math.round(bytes / calls)).padStart(8)} B  ${key}`);
}
process.stdout.write(`${lines.join('\n')}\n`);
