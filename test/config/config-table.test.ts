import t from 'tap';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  configKeyDocs,
  extractConfigTable,
  renderConfigTable,
  replaceConfigTable,
  TABLE_END,
  TABLE_START,
} from '../../src/config/config-table.js';
import { ENV_OVERRIDES } from '../../src/config/env.js';

const readme = readFileSync(fileURLToPath(new URL('../../README.md', import.meta.url)), 'utf8');

t.test("README's configuration table is the generated one (run: npx tsx scripts/config-table.ts --write)", async (t) => {
  t.equal(extractConfigTable(readme), renderConfigTable());
});

t.test('every key is documented with a description, every env var appears once', async (t) => {
  const docs = configKeyDocs();
  t.ok(docs.length > 20);
  for (const d of docs) t.not(d.description, '', `${d.key} has a description`);
  const envs = docs.map((d) => d.env).filter((e) => e !== undefined);
  t.same([...envs].sort(), Object.keys(ENV_OVERRIDES).sort());
  t.ok(docs.some((d) => d.key === 'esl.variables.campaign_id'), 'nested objects are flattened');
  t.ok(docs.some((d) => d.key === 'identity.tenants' && d.type.startsWith('map of')), 'records stay one row');
});

t.test('replaceConfigTable replaces only the marked region and is idempotent', async (t) => {
  const doc = `# x\n\n${TABLE_START}\nold\n${TABLE_END}\n\nafter\n`;
  const once = replaceConfigTable(doc, '| a |\n');
  t.equal(once, `# x\n\n${TABLE_START}\n| a |\n${TABLE_END}\n\nafter\n`);
  t.equal(replaceConfigTable(once, '| a |\n'), once);
  t.equal(extractConfigTable(once), '| a |\n');
  t.throws(() => replaceConfigTable('no markers', ''), /must contain/);
  t.throws(() => extractConfigTable(`${TABLE_END}${TABLE_START}`), /must contain/);
});

t.test('cells escape pipes', async (t) => {
  const table = renderConfigTable([{ key: 'a.b', type: 'x', defaultValue: 'p|q', env: undefined, description: 'c|d' }]);
  t.match(table, /`"p\\\|q"` \|  \| c\\\|d \|/);
});
