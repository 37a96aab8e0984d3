import t from 'tap';
import { readFileSync } from 'node:fs';
import { missingNodeFlags, NODE_FLAGS } from '../src/node-flags.js';

t.test('NODE_FLAGS: the old-generation floor production runs with', async (t) => {
  t.same(NODE_FLAGS, ['--initial-old-space-size=128']);
});

t.test('missingNodeFlags: which of the wanted flags execArgv lacks', async (t) => {
  const wanted = ['--initial-old-space-size=128', '--max-semi-space-size=16'];
  const rows: [string, string[], string[]][] = [
    ['none given', [], wanted],
    ['both given as wanted', ['--initial-old-space-size=128', '--max-semi-space-size=16'], []],
    ['another value is the operator\'s choice', ['--initial-old-space-size=64'], ['--max-semi-space-size=16']],
    ['V8 reads _ and - alike', ['--initial_old_space_size=256', '--max_semi_space_size=8'], []],
    ['a different option does not count', ['--max-old-space-size=512'], wanted],
    ['a prefix of the name does not count', ['--initial-old-space'], wanted],
    ['unrelated flags around it', ['--enable-source-maps', '--initial-old-space-size=128', '--inspect'], ['--max-semi-space-size=16']],
  ];
  for (const [name, execArgv, missing] of rows) t.same(missingNodeFlags(execArgv, wanted), missing, name);
  t.same(missingNodeFlags([]), [...NODE_FLAGS], 'defaults to NODE_FLAGS');
  t.same(missingNodeFlags([...NODE_FLAGS]), []);
});

t.test('the `callrouter` bin runs with them too: main.ts\'s shebang passes NODE_FLAGS (env -S splits it)', async (t) => {
  const first = readFileSync(new URL('../src/main.ts', import.meta.url), 'utf8').split('\n')[0];
  t.equal(first, `#!/usr/bin/env -S node ${NODE_FLAGS.join(' ')}`);
});
