import t from 'tap';
import { listenerProbe, runProbes } from '../../src/observability/probes.js';
import { createEventLoopWatch, eventLoopProbe } from '../../src/observability/event-loop-watch.js';

t.test('runProbes: all ok, one failing, one throwing', async (t) => {
  t.same(runProbes({}), { ok: true, checks: {} });
  let listening = false;
  const r = runProbes({
    esl: listenerProbe('ESL listener', () => listening),
    boom: () => {
      throw new Error('nope');
    },
    fine: () => ({ ok: true }),
  });
  t.same(r, {
    ok: false,
    checks: {
      esl: { ok: false, reason: 'ESL listener is not listening' },
      boom: { ok: false, reason: 'probe failed: nope' },
      fine: { ok: true },
    },
  });
  listening = true;
  t.same(runProbes({ esl: listenerProbe('ESL listener', () => listening) }), { ok: true, checks: { esl: { ok: true } } });
});

t.test('eventLoopProbe compares the watch against the limit', async (t) => {
  let ms = 10;
  const probe = eventLoopProbe({ maxDelayMs: () => ms }, 2000);
  t.same(probe(), { ok: true, detail: { event_loop_max_delay_ms: 10 } });
  ms = 2000;
  t.equal(probe().ok, true, 'at the limit is still alive');
  ms = 2500.4;
  t.same(probe(), { ok: false, reason: 'event loop blocked 2500 ms (limit 2000 ms)', detail: { event_loop_max_delay_ms: 2500 } });
});

t.test('createEventLoopWatch reports a non-negative delay and stops idempotently', async (t) => {
  const w = createEventLoopWatch({ windowMs: 1000, resolutionMs: 10 });
  t.teardown(() => w.stop());
  const d = w.maxDelayMs();
  t.ok(Number.isFinite(d) && d >= 0);
  w.stop();
  w.stop();
  t.pass();
});
