/**
 * Preloaded into the daemon by `npm run bench:esl -- --rate-only R --gc-log` (`node --require`): appends one JSON
 * line per V8 garbage collection longer than 1 ms (`kind`: major, minor, incremental, weakcb; `at`: epoch ms;
 * `ms`: duration) and per event-loop stall over 4 ms (a 2 ms interval timer that fired late), to the file named by
 * BENCH_GC_LOG. Bench-only: the daemon itself never loads it.
 */
'use strict';
const { PerformanceObserver, performance, constants } = require('node:perf_hooks');
const { openSync, writeSync } = require('node:fs');
const { getHeapSpaceStatistics } = require('node:v8');

const file = process.env.BENCH_GC_LOG;
if (file) {
  const fd = openSync(file, 'a');
  const kinds = {
    [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
    [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
    [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
    [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
  };
  const line = (o) => writeSync(fd, `${JSON.stringify(o)}\n`);
  const oldSpaceMb = () => (getHeapSpaceStatistics().find((sp) => sp.space_name === 'old_space')?.space_used_size ?? 0) / 1048576;
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = kinds[e.detail?.kind] ?? String(e.detail?.kind);
      // Old space after every collection: its growth between full collections is what young collections promoted
      // (plus what V8 allocated there directly).
      if (e.duration > 1 || kind === 'major') line({ type: 'gc', kind, at: performance.timeOrigin + e.startTime, ms: e.duration, oldMb: oldSpaceMb() });
    }
  }).observe({ entryTypes: ['gc'] });
  let last = performance.now();
  setInterval(() => {
    const now = performance.now();
    if (now - last > 4) line({ type: 'stall', at: performance.timeOrigin + last, ms: now - last });
    last = now;
  }, 2).unref();
}
