/**
 * The primary's side of a question every server process answers (their statistics): it asks
 * each, and settles with what came back once all answered, died, or the time ran out (a process
 * that does not answer in time is left out rather than holding the asker).
 */
export class Gatherer<W, T> {
  readonly #timeoutMs: number;
  readonly #open = new Map<number, { readonly pending: Set<W>; readonly got: T[]; finish: () => void }>();
  #nextId = 1;

  constructor(timeoutMs: number) {
    this.#timeoutMs = timeoutMs;
  }

  /** Asks each of `workers` (`ask` sends the question with the gathering's id); resolves with their answers. */
  gather(workers: readonly W[], ask: (worker: W, id: number) => void): Promise<T[]> {
    return new Promise((resolve) => {
      const id = this.#nextId++;
      const open = { pending: new Set(workers), got: [] as T[], finish: () => {} };
      const timer = setTimeout(() => open.finish(), this.#timeoutMs);
      open.finish = () => {
        clearTimeout(timer);
        this.#open.delete(id);
        resolve(open.got);
      };
      this.#open.set(id, open);
      if (open.pending.size === 0) return open.finish();
      for (const worker of open.pending) ask(worker, id);
    });
  }

  /** One process's answer to gathering `id` (late, repeated or unasked answers are ignored). */
  answer(worker: W, id: number, value: T): void {
    const open = this.#open.get(id);
    if (open === undefined || !open.pending.delete(worker)) return;
    open.got.push(value);
    if (open.pending.size === 0) open.finish();
  }

  /** A process that died will not answer. */
  forget(worker: W): void {
    for (const open of this.#open.values()) if (open.pending.delete(worker) && open.pending.size === 0) open.finish();
  }
}
