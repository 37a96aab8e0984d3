import t from 'tap';
import { startBareResponder } from './bare-responder.js';
import { FakeFreeSwitch } from './fake-freeswitch.js';

/** A fake switch calling `port`, its one gateway answering at once and hanging up soon after. */
const fakeSwitch = (port: number, gateway: string): FakeFreeSwitch =>
  new FakeFreeSwitch({
    daemonPort: port,
    timeScale: 0.01,
    recordRaw: false,
    gateways: { [gateway]: { type: 'answer', afterMs: 10, hangupAfterMs: 20 } },
  });

for (const mode of ['pipelined', 'daemon'] as const) {
  t.test(`bare responder (${mode}) drives concurrent fake calls to the end`, async (t) => {
    const responder = await startBareResponder({ mode });
    t.teardown(() => responder.close());
    const fs = fakeSwitch(responder.port, 'carrier_a');
    const records = await Promise.all(Array.from({ length: 50 }, () => fs.call()));
    t.equal(records.filter((r) => r.exitReceived && r.hangupCause === 'NORMAL_CLEARING').length, 50);
    t.equal(fs.activeCalls, 0);
    if (mode === 'daemon') {
      t.same(records[0]!.commands.map((c) => c.split(' ')[0]), ['connect', 'linger', 'filter', 'filter', 'filter', 'event', 'sendmsg', 'sendmsg', 'exit']);
      t.equal(records[0]!.executes.map((e) => e.app).join(','), 'multiset,bridge');
    }
  });
}

t.test('bare responder with required work: the dial string comes from the connect reply, every event is handed over', async (t) => {
  const seenLeads: string[] = [];
  const events: string[] = [];
  const responder = await startBareResponder({
    mode: 'daemon',
    work: {
      // Raw (encoded) values, as the reply carries them: the bench decodes what it reads.
      dialString: (headers) => {
        seenLeads.push(headers.get('variable_g2d_lead_id') ?? '');
        return `sofia/gateway/carrier_b/+1212555${(headers.get('variable_g2d_lead_id') ?? '').slice(-4)}`;
      },
      event: (body) => events.push((JSON.parse(body.toString('utf8')) as Record<string, string>)['Event-Name']!),
    },
  });
  t.teardown(() => responder.close());
  const fs = fakeSwitch(responder.port, 'carrier_b');
  const record = await fs.call({ variables: { g2d_campaign_id: 'camp1', g2d_lead_id: 'lead 0042' } });
  t.same(seenLeads, ['lead%200042']);
  t.equal(record.executes.find((e) => e.app === 'bridge')?.arg, 'sofia/gateway/carrier_b/+12125550042');
  t.ok(record.exitReceived);
  // The three subscribed events, the socket app's and multiset's EXECUTE_COMPLETE filtered out by the switch.
  t.same([...new Set(events)].sort(), ['CHANNEL_BRIDGE', 'CHANNEL_EXECUTE_COMPLETE', 'CHANNEL_HANGUP_COMPLETE']);
});
