/**
 * The kernel threads that may run at once across every server process of a host, handed out by
 * the primary in the order asked for. Each server process keeps a pool that may grow to a thread
 * per core, so one large request on an idle host is split over every core; these slots keep a
 * loaded host at one running kernel per core, however the requests are spread over processes.
 */
export class KernelSlots {
  readonly capacity: number;
  /** Granted slots, by owner (a server process) and the owner's id for the ask. */
  readonly #held = new Map<number, Set<number>>();
  readonly #waiting: { owner: number; id: number; grant: () => void }[] = [];
  #inUse = 0;

  constructor(capacity: number) {
    this.capacity = capacity;
  }

  get inUse(): number {
    return this.#inUse;
  }

  get waiting(): number {
    return this.#waiting.length;
  }

  /** Grants a slot now or when one is given back (`grant` is called then). */
  ask(owner: number, id: number, grant: () => void): void {
    if (this.#inUse < this.capacity) this.#give(owner, id, grant);
    else this.#waiting.push({ owner, id, grant });
  }

  /** Gives back a granted slot, or withdraws an ask still waiting (its grant is then never called). */
  free(owner: number, id: number): void {
    const queued = this.#waiting.findIndex((w) => w.owner === owner && w.id === id);
    if (queued >= 0) {
      this.#waiting.splice(queued, 1);
      return;
    }
    const held = this.#held.get(owner);
    if (held?.delete(id)) {
      this.#inUse--;
      this.#next();
    }
  }

  /** An owner that is gone: its slots are given back and its asks withdrawn. */
  forget(owner: number): void {
    for (let i = this.#waiting.length - 1; i >= 0; i--)
      if (this.#waiting[i]!.owner === owner) this.#waiting.splice(i, 1);
    const held = this.#held.get(owner);
    if (held === undefined) return;
    this.#inUse -= held.size;
    this.#held.delete(owner);
    while (this.#inUse < this.capacity && this.#waiting.length > 0) this.#next();
  }

  #give(owner: number, id: number, grant: () => void): void {
    let held = this.#held.get(owner);
    if (held === undefined) this.#held.set(owner, (held = new Set()));
    held.add(id);
    this.#inUse++;
    grant();
  }

  #next(): void {
    const w = this.#waiting.shift();
    if (w !== undefined) this.#give(w.owner, w.id, w.grant);
  }
}
