import t from 'tap';
import { OffsetScratch } from '../../src/esl/offset-scratch.js';

/** Fills the scratch with `n` ints (`base + i`), as a parse would. */
function fill(scratch: OffsetScratch, n: number, base: number): void {
  scratch.start();
  for (let i = 0; i < n; i++) scratch.room(i, 1)[i] = base + i;
}

for (const [name, n] of [['a pooled copy (an event\'s offsets)', 300], ['a copy past the pool\'s size', 5000], ['one int', 1]] as const) {
  t.test(`keep: ${name} holds its values after the scratch is reused`, async (t) => {
    const scratch = new OffsetScratch();
    fill(scratch, n, 1000);
    const kept = scratch.keep(n);
    fill(scratch, n + 7, -50);
    t.equal(kept.length, n);
    t.same(Array.from(kept), Array.from({ length: n }, (_, i) => 1000 + i));
    // Two copies never share memory.
    const other = scratch.keep(n);
    other[0] = 42;
    t.equal(kept[0], 1000);
  });
}

t.test('keep(0) is empty', async (t) => {
  t.equal(new OffsetScratch().keep(0).length, 0);
});
