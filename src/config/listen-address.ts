/**
 * The `HOST:PORT` listen format of the config (`esl.listen`, `metrics.listen`); IPv6 hosts in brackets
 * (`[::1]:9464`). The schema has already checked the shape; this splits it for `server.listen`.
 */

export interface ListenAddress {
  /** Host without brackets: `127.0.0.1`, `::1`, `localhost`. */
  host: string;
  /** 0..65535; 0 asks the OS for a free port (tests). */
  port: number;
}

/**
 * Split a listen string.
 * @throws TypeError when it is not HOST:PORT — cannot happen for a value that passed the config schema.
 */
export function parseListen(s: string): ListenAddress {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(s);
  const port = Number(m?.[3]);
  if (!m || port > 65535) throw new TypeError(`not a HOST:PORT listen address: ${JSON.stringify(s)}`);
  return { host: (m[1] ?? m[2]) as string, port };
}

/** The inverse of parseListen: brackets around IPv6 hosts. */
export function formatListen(a: ListenAddress): string {
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}
