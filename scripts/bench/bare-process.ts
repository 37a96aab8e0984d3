/**
 * Child-process entry for bench:esl: runs the bare responder (test/fake-freeswitch/bare-responder.ts) in its own
 * process, prints `{"port":N}` on stdout once listening, and exits on SIGTERM.
 */
import { startBareResponder } from '../../test/fake-freeswitch/bare-responder.js';

const lingerArg = process.argv.indexOf('--linger');
const responder = await startBareResponder({
  ...(lingerArg >= 0 ? { lingerSeconds: Number(process.argv[lingerArg + 1]) } : {}),
  mode: process.argv.includes('--daemon-exchange') ? 'daemon' : 'pipelined',
});
process.stdout.write(`${JSON.stringify({ port: responder.port })}\n`);
process.on('SIGTERM', () => {
  void responder.close().then(() => process.exit(0));
});
