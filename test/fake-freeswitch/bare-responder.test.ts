import t from 'tap';
import { startBareResponder } from './bare-responder.js';
import { FakeFreeSwitch } from './fake-freeswitch.js';

for (const mode of ['pipelined', 'daemon'] as const) {
  t.test(`bare responder (${mode}) drives concurrent fake calls to the end`, async (t) => {
    const responder = await startBareResponder({ mode });
    t.teardown(() => responder.close());
    const fs = new FakeFreeSwitch({
      daemonPort: responder.port,
      timeScale: 0.01,
      recordRaw: false,
      gateways: { carrier_a: { type: 'answer', afterMs: 10, hangupAfterMs: 20 } },
    });
    const records = await Promise.all(Array.from({ length: 50 }, () => fs.call()));
    t.equal(records.filter((r) => r.exitReceived && r.hangupCause === 'NORMAL_CLEARING').length, 50);
    t.equal(fs.activeCalls, 0);
    if (mode === 'daemon') {
      t.same(records[0]!.commands.map((c) => c.split(' ')[0]), ['connect', 'linger', 'filter', 'filter', 'filter', 'event', 'sendmsg', 'sendmsg', 'exit']);
      t.equal(records[0]!.executes.map((e) => e.app).join(','), 'multiset,bridge');
    }
  });
}
