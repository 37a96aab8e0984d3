/**
 * The operations HTTP listener (`metrics.listen`, loopback by default): `GET /metrics` (Prometheus text),
 * `GET /healthz` (alive: event loop responsive), `GET /readyz` (ready: every injected readiness probe ok).
 * Anything else is 404 (405 for other methods on known paths). Malformed requests get 400 and never reach
 * a handler; a handler failure is a 500, never a crash.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { ListenError } from '../errors.js';
import { formatListen, type ListenAddress, parseListen } from '../config/listen-address.js';
import { type Probe, runProbes } from './probes.js';

export interface OpsServerOptions {
  /** `HOST:PORT` (config `metrics.listen`); port 0 picks a free port. */
  listen: string;
  metrics: { render(): Promise<string>; readonly contentType: string };
  /** Liveness checks (e.g. `{ event_loop: eventLoopProbe(...) }`); all must pass for /healthz 200. */
  liveness: Readonly<Record<string, Probe>>;
  /** Readiness checks (e.g. `esl`, `replica`, `replica_age`); all must pass for /readyz 200. */
  readiness: Readonly<Record<string, Probe>>;
  logger?: Logger | undefined;
  /** close(): after this many ms, in-flight requests are cut (default 2,000). */
  closeTimeoutMs?: number;
}

export interface OpsServer {
  /**
   * Bind. Resolves with the bound address (real port when 0 was asked).
   * @throws ListenError (code `listen_failed`, fields `{ address, errno }`) on EADDRINUSE, EACCES, bad host...
   */
  listen(): Promise<ListenAddress>;
  /** Stop accepting, close idle keep-alive sockets now, cut the rest after closeTimeoutMs. Idempotent. */
  close(): Promise<void>;
  /** The bound address, or null before listen/after close. */
  address(): ListenAddress | null;
}

const ROUTES = new Set(['/metrics', '/healthz', '/readyz']);

function send(res: ServerResponse, status: number, type: string, body: string, head: boolean, extra: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', 'content-length': Buffer.byteLength(body), ...extra });
  res.end(head ? undefined : body);
}

const sendJson = (res: ServerResponse, status: number, value: unknown, head: boolean, extra?: Record<string, string>): void =>
  send(res, status, 'application/json; charset=utf-8', `${JSON.stringify(value)}\n`, head, extra);

/** Create (not yet listening) the /metrics, /healthz, /readyz server. */
export function createOpsServer(opts: OpsServerOptions): OpsServer {
  const log = opts.logger?.child({ component: 'ops-http' });
  const want = parseListen(opts.listen);
  let bound: ListenAddress | null = null;
  let closing: Promise<void> | null = null;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '').split('?', 1)[0] ?? '';
    if (!ROUTES.has(path)) return sendJson(res, 404, { error: 'not_found' }, req.method === 'HEAD');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return sendJson(res, 405, { error: 'method_not_allowed' }, false, { allow: 'GET, HEAD' });
    }
    const head = req.method === 'HEAD';
    if (path === '/metrics') return send(res, 200, opts.metrics.contentType, await opts.metrics.render(), head);
    if (path === '/healthz') {
      const r = runProbes(opts.liveness);
      return sendJson(res, r.ok ? 200 : 503, { status: r.ok ? 'ok' : 'unhealthy', ...reasons(r.checks), checks: r.checks }, head);
    }
    const r = runProbes(opts.readiness);
    return sendJson(res, r.ok ? 200 : 503, { status: r.ok ? 'ready' : 'not_ready', ...reasons(r.checks), checks: r.checks }, head);
  }

  const server: Server = createServer({ requestTimeout: 10_000, headersTimeout: 5_000, keepAliveTimeout: 5_000 }, (req, res) => {
    handle(req, res).catch((err: unknown) => {
      log?.error({ err, path: (req.url ?? '').slice(0, 100) }, 'ops request failed');
      if (!res.headersSent) sendJson(res, 500, { error: 'internal_error' }, false);
      else res.destroy();
    });
  });
  server.on('clientError', (_err, socket: Socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
    else socket.destroy();
  });

  return {
    listen() {
      return new Promise<ListenAddress>((resolve, reject) => {
        const onError = (err: NodeJS.ErrnoException): void => {
          server.off('listening', onListening);
          reject(new ListenError(`cannot listen on ${opts.listen} (metrics.listen): ${err.code ?? err.message}`, { address: opts.listen, errno: err.code }, { cause: err }));
        };
        const onListening = (): void => {
          server.off('error', onError);
          server.on('error', (err) => log?.error({ err }, 'ops http server error'));
          const a = server.address();
          bound = typeof a === 'object' && a !== null ? { host: a.address, port: a.port } : want;
          log?.info({ listen: formatListen(bound) }, 'ops http listening');
          resolve(bound);
        };
        server.once('error', onError);
        server.once('listening', onListening);
        server.listen({ host: want.host, port: want.port, exclusive: true });
      });
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        if (!server.listening) return resolve();
        const timer = setTimeout(() => server.closeAllConnections(), opts.closeTimeoutMs ?? 2000);
        timer.unref();
        server.close(() => {
          clearTimeout(timer);
          bound = null;
          resolve();
        });
        server.closeIdleConnections();
      });
      return closing;
    },
    address: () => bound,
  };
}

function reasons(checks: Record<string, { ok: boolean; reason?: string }>): { reasons?: string[] } {
  const r = Object.entries(checks).filter(([, c]) => !c.ok).map(([name, c]) => `${name}: ${c.reason ?? 'failed'}`);
  return r.length > 0 ? { reasons: r } : {};
}
