/**
 * Child-process entry for bench:esl: runs the bare responder (test/fake-freeswitch/bare-responder.ts) in its own
 * process, prints `{"port":N}` on stdout once listening, and exits on SIGTERM.
 *
 * `--required-work REPLICA` (with `--daemon-exchange`): the "required work" reference — per call, the lead read
 * from REPLICA with the daemon's own statement and page cache (the campaign and lead IDs decoded from the connect
 * reply, the dial string from the lead's phone) and every event decoded with the daemon's own JSON decoder.
 * Nothing else of the daemon: no validation, routing, timers, metrics or logging.
 */
import { decodeEslValue, parseJsonEventBody } from '../../src/esl/channel-data.js';
import { openReplica } from '../../src/replica/database.js';
import { createQueries } from '../../src/replica/queries.js';
import { DEFAULT_PAGE_CACHE_MB } from '../../src/replica/store.js';
import { startBareResponder, type RequiredWork } from '../../test/fake-freeswitch/bare-responder.js';

function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

/** The per-call work the spec makes unavoidable, on the replica at `path`. */
function requiredWork(path: string): RequiredWork {
  const queries = createQueries(openReplica(path, { busyTimeoutMs: 200, pageCacheMb: DEFAULT_PAGE_CACHE_MB }).db);
  return {
    dialString(headers) {
      const campaignId = decodeEslValue(headers.get('variable_g2d_campaign_id') ?? '');
      const leadId = decodeEslValue(headers.get('variable_g2d_lead_id') ?? '');
      const { records } = queries.versionedCallRecords(campaignId, leadId);
      return `sofia/gateway/carrier_a/${records.lead?.primaryPhone ?? '+15551234567'}`;
    },
    event(body) {
      // Decoded and read as the daemon reads it (the session's first look at an event is its name).
      void parseJsonEventBody(body)?.get('Event-Name');
    },
  };
}

const lingerArg = argValue('--linger');
const replica = argValue('--required-work');
const responder = await startBareResponder({
  ...(lingerArg !== undefined ? { lingerSeconds: Number(lingerArg) } : {}),
  mode: process.argv.includes('--daemon-exchange') ? 'daemon' : 'pipelined',
  ...(replica !== undefined ? { work: requiredWork(replica) } : {}),
});
process.stdout.write(`${JSON.stringify({ port: responder.port })}\n`);
process.on('SIGTERM', () => {
  void responder.close().then(() => process.exit(0));
});
