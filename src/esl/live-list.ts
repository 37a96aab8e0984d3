/**
 * The listener's bookkeeping of what is open (connections, running session handlers): an intrusive doubly linked
 * list whose removed entries drop every pointer they held.
 *
 * Why not a Set: V8 keeps a Set's entries in a hash table that it replaces (a new table, entries copied) whenever
 * adds and deletes have filled it — every few calls here. The replaced table keeps the entries it had (and a link to
 * the new one, for live iterators). Once the table is in the old generation (a full collection promotes it), each
 * replacement is allocated there too, and a young collection treats every old-generation object as live, dead or
 * not: so every session that was in the Set at some replacement — nearly all of them — survived young collections
 * with its socket, frames and events, and was promoted. At 1,000 calls/s that was ~5 KB per call promoted and young
 * collections twice as long in all (README "Performance"; V8's ordered-hash-table.cc `Rehash`).
 */
export interface LiveEntry {
  /** Takes the value out of the list; idempotent. */
  remove(): void;
}

interface ListState<T> {
  head: Entry<T> | undefined;
  size: number;
}

/** A class with a prototype `remove` rather than a closure per entry: one object per session, not three. */
class Entry<T> implements LiveEntry {
  prev: Entry<T> | undefined = undefined;

  constructor(
    public value: T | undefined,
    public next: Entry<T> | undefined,
    /** The list's state while linked; undefined once removed. */
    public list: ListState<T> | undefined,
  ) {}

  remove(): void {
    const list = this.list;
    if (list === undefined) return;
    if (this.prev) this.prev.next = this.next;
    else list.head = this.next;
    if (this.next) this.next.prev = this.prev;
    this.prev = undefined;
    this.next = undefined;
    this.value = undefined;
    this.list = undefined;
    list.size--;
  }
}

export class LiveList<T> {
  readonly #state: ListState<T> = { head: undefined, size: 0 };

  get size(): number {
    return this.#state.size;
  }

  add(value: T): LiveEntry {
    const state = this.#state;
    const entry = new Entry(value, state.head, state);
    if (state.head) state.head.prev = entry;
    state.head = entry;
    state.size++;
    return entry;
  }

  /** The values now in the list (a copy: safe to remove while iterating it). */
  values(): T[] {
    const out: T[] = [];
    for (let e = this.#state.head; e; e = e.next) out.push(e.value as T);
    return out;
  }
}
