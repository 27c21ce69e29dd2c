/**
 * Scrapes of /metrics answered by one gathering at a time, each begun no sooner than `spacingMs`
 * after the one before it. A gathering costs far more than the request that asks for it (~2 ms of
 * CPU in one server process, ~6 ms across two, whose primary asks every process for its values),
 * so a flood of scrapes, /metrics being open unless METRICS_API_KEY is set, took the service's
 * cores; now it costs at most one gathering per spacing. A scrape still gets values gathered
 * after it arrived: one that comes while a gathering runs waits for the next.
 */
export class ScrapeBatches {
  readonly #gather: () => Promise<string>;
  readonly #spacingMs: number;
  /** The gathering that scrapes arriving now will get, not yet begun. */
  #next: Promise<string> | null = null;
  #lastBegun = Number.NEGATIVE_INFINITY;

  constructor(gather: () => Promise<string>, spacingMs: number) {
    this.#gather = gather;
    this.#spacingMs = spacingMs;
  }

  scrape(): Promise<string> {
    if (this.#next) return this.#next;
    const wait = this.#lastBegun + this.#spacingMs - performance.now();
    const begin = () => {
      this.#next = null;
      this.#lastBegun = performance.now();
      return this.#gather();
    };
    this.#next = (wait > 0 ? new Promise((r) => setTimeout(r, wait)) : Promise.resolve()).then(begin);
    return this.#next;
  }
}
