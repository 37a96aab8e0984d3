/**
 * What bench:esl reads about a process from /proc (Linux only): CPU seconds used, RSS, the open-files limit; and
 * the two knobs it turns with util-linux tools when present: CPU affinity (taskset) and RLIMIT_NOFILE (prlimit).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const CLK_TCK = 100;

/** User + system CPU seconds of `pid` (all threads). */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

/** VmRSS of `pid` in bytes. */
export function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

/** Soft and hard RLIMIT_NOFILE of `pid`. */
export function openFilesLimit(pid: number | 'self'): { soft: number; hard: number } {
  const line = readFileSync(`/proc/${pid}/limits`, 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
  const [soft, hard] = (line ?? '').replace('Max open files', '').trim().split(/\s+/).map((v) => (v === 'unlimited' ? Infinity : Number(v)));
  return { soft: soft ?? NaN, hard: hard ?? NaN };
}

/** Pins every thread of `pid` to `cpu`; false when taskset is missing or refuses. */
export function pin(pid: number, cpu: number): boolean {
  try {
    execFileSync('taskset', ['-a', '-p', '-c', String(cpu), String(pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Raises RLIMIT_NOFILE of `pid` to `n` (soft and hard); false when prlimit is missing or refuses (not root). */
export function raiseOpenFiles(pid: number, n: number): boolean {
  try {
    execFileSync('prlimit', ['--pid', String(pid), `--nofile=${n}:${n}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Host-wide TCP listen-queue overflows and drops so far (/proc/net/netstat TcpExt). */
export function listenDrops(): { overflows: number; drops: number } {
  const lines = readFileSync('/proc/net/netstat', 'utf8').split('\n').filter((l) => l.startsWith('TcpExt:'));
  const names = (lines[0] ?? '').split(' ');
  const values = (lines[1] ?? '').split(' ');
  const get = (n: string): number => Number(values[names.indexOf(n)] ?? NaN);
  return { overflows: get('ListenOverflows'), drops: get('ListenDrops') };
}
