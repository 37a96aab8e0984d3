/**
 * Run as `node --expose-gc --import tsx test/support/young-gc-probe.ts <set|live-list>`: pushes 2,000 payloads
 * (~1 KB each) through a registry that holds at most 5 at a time — the way the listener holds its sessions —
 * after a full collection has moved the registry to the old generation, then runs young collections only and
 * prints how many bytes the old space grew by (the least of three rounds): what the young collections promoted
 * although nothing but the last five payloads was reachable.
 */
import { getHeapSpaceStatistics } from 'node:v8';
import { LiveList, type LiveEntry } from '../../src/esl/live-list.js';

declare const gc: (options: { type: 'minor' | 'major' }) => void;

const oldSpaceUsed = (): number => getHeapSpaceStatistics().find((s) => s.space_name === 'old_space')!.space_used_size;

const kind = process.argv[2];
const set = new Set<object>();
const list = new LiveList<object>();
const held: LiveEntry[] = [];
const add = (payload: object): void => {
  if (kind === 'set') {
    set.add(payload);
    if (set.size > 5) set.delete(set.values().next().value!);
  } else {
    held.push(list.add(payload));
    if (held.length > 5) held.shift()!.remove();
  }
};

// One round: a full collection moves the registry to the old generation, then 2,000 payloads go through it and
// only young collections run. Old space also grows by what V8 allocates there on its own (optimized code's metadata
// when the loop gets compiled, a concurrent job finishing): that is why the probe runs a warm-up round first and
// reports the least of three rounds — the registry's effect is in every round, V8's own allocation is not.
const round = (): number => {
  gc({ type: 'major' });
  gc({ type: 'major' });
  const before = oldSpaceUsed();
  for (let i = 0; i < 2000; i++) add({ data: new Array(250).fill(i) });
  gc({ type: 'minor' });
  gc({ type: 'minor' });
  gc({ type: 'minor' });
  return oldSpaceUsed() - before;
};

add({});
round();
const promoted = Math.min(round(), round(), round());
process.stdout.write(`${JSON.stringify({ kind, promoted })}\n`);
