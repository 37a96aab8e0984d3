import t from 'tap';
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
