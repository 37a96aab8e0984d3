/**
 * The listener's bookkeeping of what is open (connections, running session handlers): an intrusive doubly linked
 * list whose removed entries drop every pointer they held.
 *
 * Why not a Set: V8 keeps a Set's or Map's entries in a hash table that it replaces as entries come and go; a
 * replaced table keeps its entries and a link to its successor. Once a table has been promoted to the old
 * generation (every full collection promotes it), young collections treat it as live until the next full one, and
 * through the chain of its successors every session that passed through the Set survives, and is promoted, with
 * its socket, frames and events. With a call a millisecond long, that was ~5 KB per call copied and promoted at
 * 1,000 calls/s — a full collection every 2 s and a longer young one every ~130 ms (README "Performance").
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
