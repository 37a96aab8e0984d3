import t from 'tap';
import { cpSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const script = join(repo, 'scripts/install.sh');

/** A checkout with a fake build, so the test needs no `npm run build`. */
function fakeCheckout(dir: string): string {
  const src = join(dir, 'src');
  mkdirSync(join(src, 'dist/sub'), { recursive: true });
  writeFileSync(join(src, 'dist/main.js'), '// v1\n');
  writeFileSync(join(src, 'dist/sub/stale.js'), '// only in v1\n');
  for (const f of ['package.json', 'package-lock.json', 'README.md']) cpSync(join(repo, f), join(src, f));
  cpSync(join(repo, 'config'), join(src, 'config'), { recursive: true });
  cpSync(join(repo, 'systemd'), join(src, 'systemd'), { recursive: true });
  return src;
}

const run = (...args: string[]) => spawnSync('bash', [script, ...args], { encoding: 'utf8' });

t.test('stages a full install under --root, idempotently, keeping operator files', async (t) => {
  const dir = t.testdir();
  const src = fakeCheckout(dir);
  const root = join(dir, 'root');
  const first = run('--root', root, '--from', src, '--skip-deps');
  t.equal(first.status, 0, first.stderr);
  for (const f of [
    'opt/callrouter/dist/main.js',
    'opt/callrouter/package.json',
    'opt/callrouter/config/default.json',
    'etc/systemd/system/callrouter.service',
    'etc/callrouter/config.json',
    'etc/callrouter/config.example.json',
    'etc/default/callrouter',
  ]) t.ok(existsSync(join(root, f)), f);
  t.ok(statSync(join(root, 'var/lib/callrouter')).isDirectory());
  t.ok(statSync(join(root, 'etc/callrouter/keys')).isDirectory());
  t.equal(statSync(join(root, 'etc/callrouter')).mode & 0o777, 0o750);
  t.equal(statSync(join(root, 'etc/callrouter/config.json')).mode & 0o777, 0o640);
  t.equal(readFileSync(join(root, 'etc/systemd/system/callrouter.service'), 'utf8'), readFileSync(join(repo, 'systemd/callrouter.service'), 'utf8'));
  t.same(JSON.parse(readFileSync(join(root, 'etc/callrouter/config.json'), 'utf8')), JSON.parse(readFileSync(join(repo, 'config/default.json'), 'utf8')));

  // The operator edits config and env; a new build drops a module.
  writeFileSync(join(root, 'etc/callrouter/config.json'), '{"log":{"level":"debug"}}\n');
  writeFileSync(join(root, 'etc/default/callrouter'), 'CALLROUTER_LOG_LEVEL=warn\n');
  writeFileSync(join(src, 'dist/main.js'), '// v2\n');
  spawnSync('rm', ['-r', join(src, 'dist/sub')]);

  const second = run('--root', root, '--from', src, '--skip-deps');
  t.equal(second.status, 0, second.stderr);
  t.equal(readFileSync(join(root, 'etc/callrouter/config.json'), 'utf8'), '{"log":{"level":"debug"}}\n');
  t.equal(readFileSync(join(root, 'etc/default/callrouter'), 'utf8'), 'CALLROUTER_LOG_LEVEL=warn\n');
  t.equal(readFileSync(join(root, 'opt/callrouter/dist/main.js'), 'utf8'), '// v2\n');
  t.notOk(existsSync(join(root, 'opt/callrouter/dist/sub/stale.js')), 'no stale module survives');
  t.notOk(existsSync(join(root, 'opt/callrouter/dist.new')) || existsSync(join(root, 'opt/callrouter/dist.old')));
});

t.test('refuses without a build, and rejects unknown options', async (t) => {
  const dir = t.testdir();
  const src = fakeCheckout(dir);
  spawnSync('rm', ['-r', join(src, 'dist')]);
  const r = run('--root', join(dir, 'root'), '--from', src, '--skip-deps');
  t.not(r.status, 0);
  t.match(r.stderr, /dist\/main\.js not found: run 'npm ci && npm run build' first/);
  const bad = run('--bogus');
  t.not(bad.status, 0);
  t.match(bad.stderr, /unknown option: --bogus/);
});
