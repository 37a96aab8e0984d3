/**
 * What this host adds to any latency bench:esl measures, before the daemon does anything: a 1-byte round trip over
 * loopback between an echo process pinned where the process under test runs (CPU 0) and this generator (CPU 1),
 * one at a time, with nothing else running. A call's setup crosses between the two processes four times (two
 * round trips), so a setup p99 below about twice this round trip's p99 cannot be shown on this host, whatever
 * the process under test does. On a shared VM the tail comes from vCPU scheduling, not from Node.
 *
 * Also how often the host takes CPU 0 away: a busy loop pinned there for a second, counting the gaps (> 1 ms)
 * between two consecutive clock reads — time the vCPU did not run (the hypervisor's steal); a call in progress
 * during such a gap is late by all of it, and the queue behind it too.
 *
 * And the price of waking up: one stat(2) right after a 10 ms sleep against the same stat back to back. Under
 * nested virtualization (this CI host is a Firecracker guest with nested PVM) a process that slept pays for its
 * page-table and cache refill on the first things it touches, so the first work after every idle moment costs
 * many times its hot price — at light load, every call's setup starts that way.
 */
import { spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import { connect } from 'node:net';
import { performance } from 'node:perf_hooks';
import { quantile } from './load-runs.js';
import { pin } from './proc-stats.js';

export interface HostFloor {
  readonly roundTrips: number;
  readonly p50: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
  /** A 1 s busy loop on CPU 0: gaps over 1 ms between consecutive clock reads, their count and the longest (ms). */
  readonly stolen: { gaps: number; longestMs: number; totalMs: number };
  /** One stat(2), µs: back to back (p50), and as the first syscall after a 10 ms sleep (p50, p99). */
  readonly statHotUs: number;
  readonly statAfterSleepUs: { p50: number; p99: number };
}

/** `quantile` (load-runs) over `values`, sorted once. */
function quantiles(values: number[]): (p: number) => number {
  values.sort((a, b) => a - b);
  return (p) => quantile(values, p);
}

const BUSY_LOOP = `const end=performance.now()+1000;let last=performance.now(),gaps=0,longest=0,total=0;
while(true){const now=performance.now(),g=now-last;if(g>1){gaps++;total+=g;if(g>longest)longest=g;}last=now;if(now>end)break;}
process.stdout.write(JSON.stringify({gaps,longestMs:longest,totalMs:total})+'\\n');`;

/** Runs the busy loop pinned to CPU 0 (where the process under test runs). */
async function stolenTime(): Promise<HostFloor['stolen']> {
  const child = spawn(process.execPath, ['-e', BUSY_LOOP], { stdio: ['ignore', 'pipe', 'inherit'] });
  pin(child.pid!, 0);
  let text = '';
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (d: string) => (text += d));
  await new Promise((r) => child.once('exit', r));
  return JSON.parse(text) as HostFloor['stolen'];
}

async function statCost(samples: number): Promise<Pick<HostFloor, 'statHotUs' | 'statAfterSleepUs'>> {
  const hot: number[] = [];
  for (let i = 0; i < samples * 10; i++) {
    const t = performance.now();
    statSync('/');
    hot.push((performance.now() - t) * 1000);
  }
  const cold: number[] = [];
  for (let i = 0; i < samples; i++) {
    await new Promise((r) => setTimeout(r, 10));
    const t = performance.now();
    statSync('/');
    cold.push((performance.now() - t) * 1000);
  }
  const c = quantiles(cold);
  return { statHotUs: quantiles(hot)(0.5), statAfterSleepUs: { p50: c(0.5), p99: c(0.99) } };
}

const ECHO = `const s=require('node:net').createServer({noDelay:true},c=>{c.on('data',d=>c.write(d));c.on('error',()=>{})});
s.listen(0,'127.0.0.1',()=>process.stdout.write(s.address().port+'\\n'));process.on('SIGTERM',()=>process.exit(0));`;

/** Sequential round trips for `seconds` (ms figures). */
export async function measureHostFloor(seconds: number): Promise<HostFloor> {
  const child = spawn(process.execPath, ['-e', ECHO], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      child.stdout!.setEncoding('utf8');
      child.stdout!.once('data', (d: string) => resolve(Number(d.trim())));
      child.once('exit', (code) => reject(new Error(`echo process exited (${code})`)));
    });
    pin(child.pid!, 0);
    const rtts: number[] = [];
    await new Promise<void>((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port, noDelay: true });
      const end = performance.now() + seconds * 1000;
      let sentAt = 0;
      const ping = (): void => {
        sentAt = performance.now();
        socket.write('x');
      };
      socket.on('connect', ping);
      socket.on('data', () => {
        const now = performance.now();
        rtts.push(now - sentAt);
        if (now < end) setImmediate(ping);
        else {
          socket.destroy();
          resolve();
        }
      });
      socket.on('error', reject);
    });
    const q = quantiles(rtts);
    return { roundTrips: rtts.length, p50: q(0.5), p99: q(0.99), p999: q(0.999), max: rtts.at(-1) ?? NaN, stolen: await stolenTime(), ...(await statCost(200)) };
  } finally {
    child.kill('SIGTERM');
  }
}
