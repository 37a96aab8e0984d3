/**
 * Child process for store tests that need a user without write access to the replica directory (see
 * unprivileged.ts). Reads one JSON array per line (`["lookup", campaignId, leadId]`) and prints one JSON
 * answer per line.
 */
import { createInterface } from 'node:readline';
import { createReplicaStore, type ReplicaRows } from '../../src/replica/store.js';

const path = process.argv[2] ?? '';
const store = createReplicaStore({
  path,
  busyTimeoutMs: 20,
  buildIndex: (rows: ReplicaRows) => rows.routes.map((r) => r.id),
  now: () => 0,
  // Every lookup looks at the file: these tests pin what one lookup sees right after a writer's step (with the
  // default interval, a lookup within the same clock millisecond of the last look would not stat yet).
  fileCheckIntervalMs: 0,
});

function answer(cmd: string, args: string[]): unknown {
  switch (cmd) {
    case 'open':
      store.open();
      return { mode: store.status().mode };
    case 'lookup': {
      const r = store.lookup(args[0] ?? '', args[1] ?? '');
      return r.ok
        ? { ok: true, phone: r.records.lead?.primaryPhone ?? null, routes: r.index, mode: store.status().mode }
        : { ok: false, cause: r.cause, message: r.message };
    }
    case 'refresh':
      return { ...store.refresh(), mode: store.status().mode };
    case 'status':
      return store.status();
    case 'close':
      store.close();
      return {};
    default:
      return { error: `unknown command ${cmd}` };
  }
}

createInterface({ input: process.stdin }).on('line', (line) => {
  const [cmd, ...args] = JSON.parse(line) as string[];
  let out: unknown;
  try {
    out = answer(cmd ?? '', args);
  } catch (err) {
    const e = err as { code?: string; message?: string };
    out = { threw: { code: e.code, message: e.message } };
  }
  process.stdout.write(`${JSON.stringify(out)}\n`);
});
