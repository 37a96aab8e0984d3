/**
 * Test helper: runs TypeScript as a user WITHOUT write access to a replica directory, the way systemd's
 * `ReadOnlyPaths=` runs the daemon. As root, children drop to nobody (65534) with setpriv; as another user,
 * a 0555 directory already denies writes. Children get a clean environment (tap's NODE_OPTIONS hooks would
 * write under .tap/ as the unprivileged user) with SQLITE_USE_URI=1, as the systemd unit sets it.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Test } from 'tap';

/** Why an unprivileged child cannot run here, or undefined when it can. */
export function cannotDropWrite(): string | undefined {
  if (process.getuid?.() !== 0) return undefined;
  return spawnSync('setpriv', ['--version']).status === 0 ? undefined : 'root without setpriv: cannot drop write access';
}

function command(args: string[]): [string, string[]] {
  const node = [process.execPath, '--import', 'tsx', ...args];
  return process.getuid?.() === 0
    ? ['setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', ...node]]
    : [node[0]!, node.slice(1)];
}

/** The environment every child gets; `extra` adds or (with undefined) removes variables. */
export function childEnv(extra: Record<string, string | undefined> = {}): Record<string, string> {
  const env: Record<string, string | undefined> = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/tmp', SQLITE_USE_URI: '1', ...extra };
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));
}

/** Runs an ES module script unprivileged and returns its output. */
export function runScript(script: string, env = childEnv()): { stdout: string; stderr: string } {
  const [cmd, args] = command(['--input-type=module', '-e', script]);
  const r = spawnSync(cmd, args, { encoding: 'utf8', cwd: process.cwd(), env });
  return { stdout: r.stdout, stderr: r.stderr };
}

/** A replica store in an unprivileged child: `call` sends one command and resolves with its JSON answer. */
export interface StoreChild {
  call(cmd: 'open' | 'refresh' | 'status' | 'close'): Promise<Record<string, unknown>>;
  call(cmd: 'lookup', campaignId: string, leadId: string): Promise<Record<string, unknown>>;
}

/** Starts `store-child.ts` on `path`; killed at teardown. */
export function startStoreChild(t: Test, path: string): StoreChild {
  const child: ChildProcessWithoutNullStreams = spawn(...command([new URL('./store-child.ts', import.meta.url).pathname, path]), {
    cwd: process.cwd(),
    env: childEnv(),
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const waiting: ((line: string) => void)[] = [];
  createInterface({ input: child.stdout }).on('line', (line) => waiting.shift()?.(line));
  child.on('exit', (code) => {
    for (const w of waiting.splice(0)) w(JSON.stringify({ exited: code, stderr }));
  });
  t.teardown(() => {
    child.stdin.end();
    if (child.exitCode === null) child.kill();
  });
  return {
    call: (...args: string[]) =>
      new Promise((resolve) => {
        waiting.push((line) => resolve(JSON.parse(line) as Record<string, unknown>));
        child.stdin.write(`${JSON.stringify(args)}\n`);
      }),
  };
}
