/**
 * Print README's configuration table (generated from the config schema), or with `--write` put it between the
 * `<!-- config-table:start -->` / `<!-- config-table:end -->` markers of README.md.
 *   npx tsx scripts/config-table.ts [--write] [--readme PATH]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderConfigTable, replaceConfigTable } from '../src/config/config-table.js';

const args = process.argv.slice(2);
const table = renderConfigTable();
if (!args.includes('--write')) {
  process.stdout.write(table);
} else {
  const i = args.indexOf('--readme');
  const readme = i >= 0 && args[i + 1] ? args[i + 1]! : fileURLToPath(new URL('../README.md', import.meta.url));
  const before = readFileSync(readme, 'utf8');
  const after = replaceConfigTable(before, table);
  if (after !== before) writeFileSync(readme, after);
  process.stderr.write(`${readme}: configuration table ${after === before ? 'already up to date' : 'updated'}\n`);
}
