/**
 * The listener's bookkeeping of what is open (connections, running session handlers): an intrusive doubly linked
 * list whose removed entries drop every pointer they held.
 *
 * Why not a Set: V8 keeps a Set's entries in a hash table that it replaces (a new table, entries copied) whenever
 * adds and deletes have filled it — every few calls here. The replaced table keeps the entries it had (and a link to
 * the new one, for live iterators). Once the table is in the old generation (a full collection promotes it), each
 * replacement is allocated there too, and a young collection treats every old-generation object as live, dead or
 * not: so every session that was in the Set at some replacement — nearly all of them — survived young collections
 * with its socket, frames and events, and was promoted. At 1,000 calls/s that was ~5 KB per call, a full
 * collection every ~2 s and slower young ones (README "Performance"; V8's ordered-hash-table.cc `Rehash`).
 */
export interface LiveEntry {
  /** Takes the value out of the list; idempotent. */
  remove(): void;
}

interface Node<T> extends LiveEntry {
  value: T | undefined;
  linked: boolean;
  prev: Node<T> | undefined;
  next: Node<T> | undefined;
}

export class LiveList<T> {
  #head: Node<T> | undefined;
  #size = 0;

  get size(): number {
    return this.#size;
  }

  add(value: T): LiveEntry {
    const node: Node<T> = {
      value,
      linked: true,
      prev: undefined,
      next: this.#head,
      remove: () => this.#unlink(node),
    };
    if (this.#head) this.#head.prev = node;
    this.#head = node;
    this.#size++;
    return node;
  }

  /** The values now in the list (a copy: safe to remove while iterating it). */
  values(): T[] {
    const out: T[] = [];
    for (let n = this.#head; n; n = n.next) out.push(n.value as T);
    return out;
  }

  #unlink(node: Node<T>): void {
    if (!node.linked) return;
    node.linked = false;
    if (node.prev) node.prev.next = node.next;
    else this.#head = node.next;
    if (node.next) node.next.prev = node.prev;
    node.prev = undefined;
    node.next = undefined;
    node.value = undefined;
    this.#size--;
  }
}
