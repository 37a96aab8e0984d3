/** A test-only daemon side: runs `script` on the connection after `connect`, against a fresh fake call. */
import type { Test } from 'tap';
import { createEslServer } from '../../src/esl/server.js';
import type { OutboundConnection } from '../../src/esl/connection.js';
import { FakeFreeSwitch, type CallRecord, type GatewayScript } from './fake-freeswitch.js';

export async function startDaemonLike(
  t: Test,
  script: (conn: OutboundConnection) => Promise<void>,
  gateways: Record<string, GatewayScript> = {},
): Promise<CallRecord> {
  const server = createEslServer({
    listen: '127.0.0.1:0',
    allowFrom: ['127.0.0.0/8'],
    maxSessions: 10,
    maxFrameBytes: 262144,
    connectTimeoutMs: 2000,
    commandTimeoutMs: 2000,
    onSession: async (conn) => {
      const c = await conn.connect(2000);
      if (!c.ok) return;
      await conn.command('linger', ['5'], 2000);
      await script(conn);
      if (!conn.isClosed) await conn.exit(1000);
    },
  });
  const { port } = await server.listen();
  const fs = new FakeFreeSwitch({ daemonPort: port, timeScale: 0.01, gateways });
  t.teardown(async () => {
    await fs.close();
    server.destroyAll();
    await server.close();
  });
  return fs.call({ variables: { g2d_campaign_id: 'c1', g2d_lead_id: 'l1' } });
}
