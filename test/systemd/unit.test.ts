import t from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ConfigSchema } from '../../src/config/schema.js';
import { ENV_OVERRIDES } from '../../src/config/env.js';
import { NODE_FLAGS } from '../../src/node-flags.js';

const unitPath = fileURLToPath(new URL('../../systemd/callrouter.service', import.meta.url));
const envPath = fileURLToPath(new URL('../../systemd/callrouter.env.example', import.meta.url));
const unitText = readFileSync(unitPath, 'utf8');

/** section → key → every value (directives may repeat), comments and blank lines dropped. */
function parseUnit(text: string): Map<string, Map<string, string[]>> {
  const out = new Map<string, Map<string, string[]>>();
  let section: Map<string, string[]> | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const s = /^\[(.+)\]$/.exec(line);
    if (s) {
      section = new Map();
      out.set(s[1]!, section);
      continue;
    }
    const eq = line.indexOf('=');
    if (!section || eq < 0) throw new Error(`unparseable line: ${line}`);
    const k = line.slice(0, eq);
    section.set(k, [...(section.get(k) ?? []), line.slice(eq + 1)]);
  }
  return out;
}

const unit = parseUnit(unitText);
const svc = unit.get('Service')!;
const one = (k: string): string | undefined => svc.get(k)?.at(-1);

t.test('required [Service] directives', async (t) => {
  const want: Record<string, string> = {
    Type: 'simple',
    ExecStart: ['/usr/bin/node', ...NODE_FLAGS, '/opt/callrouter/dist/main.js serve --config /etc/callrouter/config.json'].join(' '),
    User: 'callrouter',
    EnvironmentFile: '-/etc/default/callrouter',
    Restart: 'on-failure',
    LimitNOFILE: '65536',
    ExecReload: '/bin/kill -HUP $MAINPID',
    NoNewPrivileges: 'yes',
    ProtectSystem: 'strict',
    ProtectHome: 'yes',
    PrivateTmp: 'yes',
    RestrictAddressFamilies: 'AF_INET AF_INET6 AF_UNIX',
    CapabilityBoundingSet: '',
    StandardOutput: 'journal',
  };
  for (const [k, v] of Object.entries(want)) t.equal(one(k), v, k);
  t.notOk(svc.has('MemoryDenyWriteExecute'), 'V8 JIT needs W+X pages');
  t.notOk(svc.has('Type') && one('Type') === 'forking');
  t.ok(unit.get('Install')?.get('WantedBy')?.includes('multi-user.target'));
});

t.test('TimeoutStopSec is above the default grace period', async (t) => {
  const grace = ConfigSchema.parse({}).shutdown.grace_seconds;
  const stop = Number(one('TimeoutStopSec'));
  t.ok(stop > grace, `TimeoutStopSec ${stop} > grace ${grace}`);
  t.ok(stop >= grace + 10, 'room for close after the drain');
});

t.test('nothing is writable: the replica directory and config are read-only', async (t) => {
  t.notOk(svc.has('ReadWritePaths'), 'no ReadWritePaths');
  const replicaDir = ConfigSchema.parse({}).replica.path.replace(/\/[^/]+$/, '');
  const readOnly = svc.get('ReadOnlyPaths') ?? [];
  t.ok(readOnly.some((p) => replicaDir === p || replicaDir.startsWith(`${p}/`)), `ReadOnlyPaths covers ${replicaDir}`);
  t.ok(readOnly.includes('/etc/callrouter'));
  t.ok(svc.get('Environment')?.includes('SQLITE_USE_URI=1'), 'URI filenames on: a closed WAL replica is read immutable=1');
});

t.test('the env example lists every override variable', async (t) => {
  const env = readFileSync(envPath, 'utf8');
  for (const name of Object.keys(ENV_OVERRIDES)) t.match(env, new RegExp(`^# ${name}=`, 'm'), name);
});

const probe = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' });
const noAnalyzer = probe.error || probe.status !== 0 ? 'systemd-analyze is not installed on this machine' : false;

t.test('systemd-analyze verify', { skip: noAnalyzer }, async (t) => {
  // verify wants the unit's own name; ExecStart's binary must exist, which it may not on a dev machine.
  const dir = t.testdir();
  const copy = join(dir, 'callrouter.service');
  let text = unitText;
  const node = spawnSync('sh', ['-c', 'command -v node'], { encoding: 'utf8' }).stdout.trim();
  if (node && node !== '/usr/bin/node') text = text.replace('/usr/bin/node', node);
  writeFileSync(copy, text);
  const r = spawnSync('systemd-analyze', ['verify', copy], { encoding: 'utf8' });
  const complaints = `${r.stdout}${r.stderr}`.split('\n').filter((l) => l.includes('callrouter.service'));
  t.same(complaints, [], 'no complaints about the unit');
  t.equal(r.status, 0);
});
