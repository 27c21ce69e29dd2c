/** How often the transfers on a watchlist are looked at. */
export const CHECK_MS = 250;

/**
 * Transfers a client controls the pace of (bodies arriving: src/uploads.ts; answers being taken:
 * src/deliveries.ts), each looked at every CHECK_MS while any is on the list, `look` deciding
 * whether it has run out of time. The timer stops at a look that finds the list empty, not when
 * the last transfer ends: most end within one chunk, and a timer made and cleared for each would
 * cost every small request.
 */
export class Watchlist<T> {
  readonly #items = new Set<T>();
  readonly #look: (item: T, now: number) => void;
  #timer: NodeJS.Timeout | null = null;

  constructor(look: (item: T, now: number) => void) {
    this.#look = look;
  }

  get size(): number {
    return this.#items.size;
  }

  add(item: T): void {
    this.#items.add(item);
    this.#timer ??= setInterval(() => this.#sweep(), CHECK_MS).unref();
  }

  delete(item: T): void {
    this.#items.delete(item);
  }

  /** The transfers now, a copy: `look` and its callers may take them off the list meanwhile. */
  items(): T[] {
    return [...this.#items];
  }

  #sweep(): void {
    if (this.#items.size === 0 && this.#timer !== null) {
      clearInterval(this.#timer);
      this.#timer = null;
      return;
    }
    const now = performance.now();
    for (const item of this.items()) this.#look(item, now);
  }
}
