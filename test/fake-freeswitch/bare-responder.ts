/**
 * A bare daemon-side responder for benchmarks: accepts the fake FreeSWITCH's connections and drives each one
 * through connect → linger → event json → one fixed bridge → exit after CHANNEL_HANGUP_COMPLETE, with no routing,
 * no logging and no checks. Its cost is the floor the real daemon is compared against. No tap imports.
 *
 * Two exchanges:
 * - `pipelined` (default): every command written at once on accept (FreeSWITCH reads them in order), replies
 *   ignored: the fewest round trips possible (not even the uuid is known: no filter).
 * - `daemon`: the daemon's exact exchange — `connect`; on its reply, in ONE write, `linger N`, `filter Unique-ID
 *   <uuid>`, `filter Application -multiset`, `filter Application -socket`, `event json <the session's 3
 *   events>`, `multiset`, `bridge`; then `exit` after
 *   CHANNEL_HANGUP_COMPLETE — with every reply awaited (counted), events recognised by substring, never decoded.
 *
 * With `work` (daemon exchange only) the responder also does what no implementation of the spec can skip, and
 * nothing else: the dial string comes from `work.dialString` over the connect reply's headers (the bench reads
 * the lead from the replica there) and every event body goes through `work.event` (the bench decodes it) — the
 * bench's "required work" reference, which says how much of the bare exchange's speed the spec itself leaves.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { FrameParser } from '../../src/esl/frame-parser.js';
import { LiveList, type LiveEntry } from '../../src/esl/live-list.js';

export interface BareResponderOptions {
  /** The bridge argument sent for every call (default `sofia/gateway/carrier_a/+15551234567`). */
  readonly dialString?: string;
  readonly lingerSeconds?: number;
  readonly mode?: 'pipelined' | 'daemon';
  /** Per-call work on top of the daemon exchange (ignored in `pipelined` mode). */
  readonly work?: RequiredWork;
}

/** The per-call work of the `required work` reference (see the module comment). */
export interface RequiredWork {
  /** The bridge argument for the call whose connect reply carried `headers` (raw, URL-encoded values). */
  dialString(headers: ReadonlyMap<string, string>): string;
  /** Called with every event body received. */
  event(body: Buffer): void;
}

const SESSION_EVENTS = 'CHANNEL_EXECUTE_COMPLETE CHANNEL_BRIDGE CHANNEL_HANGUP_COMPLETE';

export interface BareResponder {
  readonly port: number;
  /** Sessions handled to the end (exit sent or peer closed). */
  readonly completed: () => number;
  close(): Promise<void>;
}

/** Starts the responder on 127.0.0.1 at a free port. */
export async function startBareResponder(options: BareResponderOptions = {}): Promise<BareResponder> {
  const dial = options.dialString ?? 'sofia/gateway/carrier_a/+15551234567';
  const linger = options.lingerSeconds ?? 5;
  // Kept like the daemon keeps its sessions (a Set would make every call outlive young collections, live-list.ts).
  const sockets = new LiveList<Socket>();
  let completed = 0;
  const daemonExchange = options.mode === 'daemon';
  const server: Server = createServer({ noDelay: true }, (socket) => {
    const open = sockets.add(socket);
    if (daemonExchange) return runDaemonExchange(socket, dial, linger, open, options.work);
    const parser = new FrameParser({ maxFrameBytes: 1 << 20 });
    let exited = false;
    socket.on('error', () => {});
    socket.on('close', () => {
      open.remove();
      completed++;
    });
    // FreeSWITCH reads commands in order, so they can be pipelined; the replies are not needed here.
    socket.write(
      `connect\n\nlinger ${linger}\n\nevent json CHANNEL_EXECUTE_COMPLETE CHANNEL_HANGUP_COMPLETE\n\n` +
        `sendmsg\ncall-command: execute\nexecute-app-name: set\nexecute-app-arg: hangup_after_bridge=true\n\n` +
        `sendmsg\ncall-command: execute\nexecute-app-name: bridge\nexecute-app-arg: ${dial}\n\n`,
    );
    socket.on('data', (chunk: Buffer) => {
      const result = parser.push(chunk);
      if (!result.ok) return socket.destroy();
      for (const frame of result.frames) {
        if (exited || frame.headers.get('Content-Type') !== 'text/event-json' || !frame.body) continue;
        if (frame.body.includes('"Event-Name":"CHANNEL_HANGUP_COMPLETE"')) {
          exited = true;
          socket.write('exit\n\n');
        }
      }
    });
  });
  const runDaemonExchange = (socket: Socket, dialString: string, lingerSeconds: number, open: LiveEntry, work: RequiredWork | undefined): void => {
    const parser = new FrameParser({ maxFrameBytes: 1 << 20 });
    let replies = 0;
    let exited = false;
    socket.on('error', () => {});
    socket.on('close', () => {
      open.remove();
      completed++;
    });
    const sendmsg = (app: string, arg: string): string =>
      `sendmsg\ncall-command: execute\nexecute-app-name: ${app}\nexecute-app-arg: ${arg}\n\n`;
    socket.write('connect\n\n');
    socket.on('data', (chunk: Buffer) => {
      const result = parser.push(chunk);
      if (!result.ok) return socket.destroy();
      for (const frame of result.frames) {
        const type = frame.headers.get('Content-Type');
        if (type === 'command/reply') {
          if (++replies !== 1) continue;
          const uuid = frame.headers.get('Unique-ID') ?? '';
          socket.write(
            `linger ${lingerSeconds}\n\nfilter Unique-ID ${uuid}\n\nfilter Application -multiset\n\n` +
              `filter Application -socket\n\nevent json ${SESSION_EVENTS}\n\n` +
              sendmsg('multiset', 'continue_on_fail=true hangup_after_bridge=true sip_copy_custom_headers=false') +
              sendmsg('bridge', work === undefined ? dialString : work.dialString(frame.headers)),
          );
        } else if (type === 'text/event-json' && frame.body !== undefined) {
          work?.event(frame.body);
          if (!exited && frame.body.includes('"Event-Name":"CHANNEL_HANGUP_COMPLETE"')) {
            exited = true;
            socket.write('exit\n\n');
          }
        }
      }
    });
  };
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0 }, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    port,
    completed: () => completed,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets.values()) s.destroy();
        server.close(() => resolve());
      }),
  };
}
