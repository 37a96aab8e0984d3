/**
 * The outbound event socket listener: FreeSWITCH connects here once per call (`socket 127.0.0.1:8084 async
 * full`). Each accepted, allowed connection becomes an `OutboundConnection` handed to `onSession`.
 *
 * Refusals (peer not in `allowFrom`, `maxSessions` reached, shutting down) close the socket BEFORE `connect` is
 * sent, so FreeSWITCH's `socket` app returns and its dialplan continues with the fallback action.
 */
import { BlockList, createServer, isIPv4, isIPv6, type Server, type Socket } from 'node:net';
import { ListenError } from '../errors.js';
import { OutboundConnection, type EslTimers } from './connection.js';
import { LiveList, type LiveEntry } from './live-list.js';

export type RefusalReason = 'max_sessions' | 'not_allowed' | 'shutting_down';

export interface EslServerOptions {
  /** `HOST:PORT` (`[::1]:8084` for IPv6); port 0 picks a free port (tests). */
  readonly listen: string;
  /** CIDRs allowed to connect (`127.0.0.0/8`, `::1/128`); IPv4-mapped IPv6 peers are matched as IPv4. */
  readonly allowFrom: readonly string[];
  readonly maxSessions: number;
  readonly maxFrameBytes: number;
  readonly connectTimeoutMs: number;
  readonly commandTimeoutMs: number;
  readonly timers?: EslTimers;
  /** Runs one session. When its promise settles, a still-open connection is destroyed. Must not throw (guarded anyway). */
  readonly onSession: (conn: OutboundConnection) => Promise<void>;
  readonly onRefused?: (reason: RefusalReason, remoteAddress: string | undefined) => void;
  /** A session threw or rejected, a hook threw, or the listener hit an error after start. */
  readonly onError?: (err: unknown) => void;
}

export interface EslServer {
  /** Binds; resolves with the bound address, rejects with `ListenError` (EADDRINUSE, EACCES...). Always settles. */
  listen(): Promise<{ host: string; port: number }>;
  /** Stops accepting: new connections are refused (`shutting_down`) and the listening socket is closed. */
  stopAccepting(): void;
  /** Sessions currently open. */
  activeCount(): number;
  /**
   * Stops accepting, then resolves once every open session has ended on its own (pair with a grace timer) and
   * every session handler has returned — also after `destroyAll()`, so cut calls still record their outcome.
   */
  close(): Promise<void>;
  /** Destroys every open session now. */
  destroyAll(): void;
}

/** Splits `HOST:PORT` / `[v6]:PORT`. Throws ListenError on a malformed value (start-up only). */
export function parseListenAddress(value: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(value);
  const port = match ? Number(match[3]) : NaN;
  if (!match || port > 65535) throw new ListenError(`invalid listen address: ${value}`, { listen: value });
  return { host: (match[1] ?? match[2])!, port };
}

/** Builds a BlockList from CIDRs (used as an allow list). Throws ListenError on a malformed entry. */
export function buildAllowList(cidrs: readonly string[]): BlockList {
  const list = new BlockList();
  for (const cidr of cidrs) {
    const [address, prefixText] = cidr.split('/');
    const family = address && isIPv4(address) ? 'ipv4' : address && isIPv6(address) ? 'ipv6' : undefined;
    const max = family === 'ipv4' ? 32 : 128;
    const prefix = prefixText === undefined ? max : Number(prefixText);
    if (!family || !Number.isInteger(prefix) || prefix < 0 || prefix > max) {
      throw new ListenError(`invalid allow_from entry: ${cidr}`, { cidr });
    }
    list.addSubnet(address!, prefix, family);
  }
  return list;
}

const ALLOW_CACHE_MAX = 1024;

/**
 * Whether `allowFrom` must be checked per peer on a listener bound to `host`. Every peer of a loopback listener
 * is a process on this host, and such a process chooses its source address: any loopback address, or another
 * of the host's own (connecting from 192.0.2.2 to 127.0.0.1 works). When the list admits the listener's WHOLE
 * loopback range (127.0.0.0/8, or ::1), a peer refused for its source could come back from an admitted one, so
 * the check keeps no one out; it is skipped there (it cost a getpeername(2) per call) and applied as
 * configured everywhere else — any other listen address, or a list that admits only part of the range.
 */
export function peerCheckNeeded(host: string, allowFrom: readonly string[]): boolean {
  const family = isIPv4(host) ? 'ipv4' : isIPv6(host) ? 'ipv6' : undefined;
  if (family === 'ipv4' ? !host.startsWith('127.') : family === 'ipv6' ? !isIPv6Loopback(host) : true) return true;
  return !allowFrom.some((cidr) => {
    const [address, prefixText] = cidr.split('/');
    const entry = buildAllowList([cidr]);
    // A subnet holds the whole 127.0.0.0/8 when its prefix is at most 8 and it holds 127.0.0.0.
    if (family === 'ipv4') return address !== undefined && isIPv4(address) && Number(prefixText ?? 32) <= 8 && entry.check('127.0.0.0', 'ipv4');
    return entry.check('::1', 'ipv6');
  });
}

/** `::1` however written (`0:0:0:0:0:0:0:1`...). */
function isIPv6Loopback(host: string): boolean {
  return buildAllowList(['::1/128']).check(host, 'ipv6');
}

/** True when `address` (as reported by a socket) is inside the allow list. */
export function isAllowed(list: BlockList, address: string | undefined): boolean {
  if (!address) return false;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return list.check(mapped[1]!, 'ipv4');
  if (isIPv4(address)) return list.check(address, 'ipv4');
  if (isIPv6(address)) return list.check(address, 'ipv6');
  return false;
}

/** Creates the listener (not yet bound). */
export function createEslServer(options: EslServerOptions): EslServer {
  const address = parseListenAddress(options.listen);
  const allowList = buildAllowList(options.allowFrom);
  const checkPeers = peerCheckNeeded(address.host, options.allowFrom);
  // Not Sets: see live-list.ts (a Set of per-call objects made every call outlive young collections).
  const sessions = new LiveList<OutboundConnection>();
  /** Handlers still running (a handler finishes its bookkeeping after its connection closed). */
  const running = new LiveList<Promise<void>>();
  let accepting = true;
  let listening = false;
  let server: Server | undefined;

  const report = (err: unknown): void => {
    try {
      options.onError?.(err);
    } catch {
      // never let a reporting hook crash the process
    }
  };

  const refuse = (socket: Socket, reason: RefusalReason): void => {
    socket.on('error', () => {});
    socket.destroy();
    try {
      options.onRefused?.(reason, socket.remoteAddress);
    } catch (err) {
      report(err);
    }
  };

  // The same few FreeSWITCH hosts connect thousands of times a second: remember each address's verdict
  // (BlockList.check builds an address object per call). Bounded: emptied when it grows past ALLOW_CACHE_MAX.
  const verdicts = new Map<string, boolean>();
  const allowed = (address: string | undefined): boolean => {
    if (address === undefined) return false;
    let ok = verdicts.get(address);
    if (ok === undefined) {
      ok = isAllowed(allowList, address);
      if (verdicts.size >= ALLOW_CACHE_MAX) verdicts.clear();
      verdicts.set(address, ok);
    }
    return ok;
  };

  const ended = (conn: OutboundConnection, handler: LiveEntry | undefined): void => {
    if (!conn.isClosed) conn.destroy('session ended');
    handler?.remove();
  };

  const onConnection = (socket: Socket): void => {
    if (!accepting) return refuse(socket, 'shutting_down');
    if (checkPeers && !allowed(socket.remoteAddress)) return refuse(socket, 'not_allowed');
    if (sessions.size >= options.maxSessions) return refuse(socket, 'max_sessions');
    socket.setNoDelay(true);
    const conn = new OutboundConnection(socket, {
      maxFrameBytes: options.maxFrameBytes,
      connectTimeoutMs: options.connectTimeoutMs,
      commandTimeoutMs: options.commandTimeoutMs,
      onListenerError: report,
      ...(options.timers ? { timers: options.timers } : {}),
    });
    const open = sessions.add(conn);
    conn.onClosed(() => open.remove());
    let run: Promise<void>;
    try {
      run = Promise.resolve(options.onSession(conn));
    } catch (err) {
      run = Promise.reject(err);
    }
    // One reaction per call (not catch + finally + then): the handler's end is on every call's path.
    let handler: LiveEntry | undefined;
    const done = run.then(
      () => ended(conn, handler),
      (err: unknown) => {
        report(err);
        ended(conn, handler);
      },
    );
    handler = running.add(done);
  };

  const stopAccepting = (): void => {
    accepting = false;
    if (server && listening) {
      listening = false;
      server.close();
    }
  };

  return {
    listen() {
      if (server) return Promise.reject(new ListenError('listen() called twice', { listen: options.listen }));
      const srv = createServer({ noDelay: true }, onConnection);
      server = srv;
      return new Promise((resolve, reject) => {
        const onError = (err: NodeJS.ErrnoException): void => {
          srv.off('listening', onListening);
          reject(new ListenError(`cannot listen on ${options.listen}: ${err.code ?? err.message}`, { listen: options.listen, errno: err.code }, { cause: err }));
        };
        const onListening = (): void => {
          srv.off('error', onError);
          listening = true;
          srv.on('error', report);
          const bound = srv.address();
          if (bound && typeof bound === 'object') resolve({ host: bound.address, port: bound.port });
          else resolve(address);
        };
        srv.once('error', onError);
        srv.once('listening', onListening);
        srv.listen({ host: address.host, port: address.port, exclusive: true });
      });
    },
    stopAccepting,
    activeCount() {
      return sessions.size;
    },
    async close() {
      stopAccepting();
      await Promise.all(sessions.values().map((c) => c.closed));
      // The connection closes before its handler has logged and counted the call; a process that exits right
      // after close() (SIGTERM, grace expiry) must not lose those.
      await Promise.all(running.values());
    },
    destroyAll() {
      for (const conn of sessions.values()) conn.destroy('shutdown');
    },
  };
}
