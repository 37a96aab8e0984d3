/**
 * Preloaded into the daemon by `npx tsx scripts/bench-esl.ts --saturation-only --alloc-prof FILE` (`node
 * --require`): V8's sampling heap profiler, counting objects that young and full collections have since freed too
 * (a plain `--heap-prof` keeps only what is still live, which for a call path is almost nothing). The first SIGUSR2
 * starts sampling, the second writes the profile to the file named by BENCH_ALLOC_PROF. Bench-only: the daemon
 * itself never loads it.
 */
'use strict';
const { Session } = require('node:inspector');
const { writeFileSync } = require('node:fs');

const file = process.env.BENCH_ALLOC_PROF;
if (file) {
  const session = new Session();
  session.connect();
  const post = (method, params) => new Promise((resolve, reject) => session.post(method, params, (err, r) => (err ? reject(err) : resolve(r))));
  let sampling = false;
  process.on('SIGUSR2', () => {
    if (!sampling) {
      sampling = true;
      void post('HeapProfiler.enable').then(() =>
        post('HeapProfiler.startSampling', { samplingInterval: 512, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true }));
      return;
    }
    sampling = false;
    void post('HeapProfiler.stopSampling').then(({ profile }) => writeFileSync(file, JSON.stringify(profile)));
  });
}
