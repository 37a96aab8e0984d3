/**
 * The event filters of one event socket, as mod_event_socket applies them (event_handler in
 * mod_event_socket.c): `filter <Header> <value>` adds one, in order; once any filter exists an event is sent
 * only if a POSITIVE filter matches it, and a NEGATIVE one (`-value`) that matches vetoes it. For each filter,
 * in order: skipped when the event lacks the header (names compared case-insensitively); a positive filter is
 * skipped once the event already passes; values compare case-insensitively after any leading `+`, `-` and
 * spaces. (Regex filters — a value starting with `/` — are not modelled: the daemon never sends one.) No tap
 * imports: the benchmarks' peers use it too.
 */
export class EventFilters {
  readonly #filters: Array<{ name: string; value: string; positive: boolean }> = [];

  /** Adds `filter <name> <value>` (the raw value, with its sign). */
  add(name: string, rawValue: string): void {
    let i = 0;
    let positive = true;
    while (i < rawValue.length) {
      const c = rawValue[i];
      if (c === '+') positive = true;
      else if (c === '-') positive = false;
      else if (c !== ' ') break;
      i++;
    }
    this.#filters.push({ name: name.toLowerCase(), value: rawValue.slice(i).toLowerCase(), positive });
  }

  /** Whether an event whose header `name` (lower-case) reads `header(name)` reaches the socket. */
  passes(header: (lowerName: string) => string | undefined): boolean {
    if (this.#filters.length === 0) return true;
    let send = false;
    for (const f of this.#filters) {
      const value = header(f.name);
      if (value === undefined) continue;
      if (send && f.positive) continue;
      if (value.toLowerCase() !== f.value) continue;
      if (!f.positive) return false;
      send = true;
    }
    return send;
  }

  /** The same for an event given as a header record. */
  passesRecord(headers: Readonly<Record<string, string>>): boolean {
    if (this.#filters.length === 0) return true;
    const lower = new Map<string, string>();
    for (const [k, v] of Object.entries(headers)) lower.set(k.toLowerCase(), v);
    return this.passes((name) => lower.get(name));
  }
}
