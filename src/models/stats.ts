/**
 * The statistics extension's numbers for each model: counts and cumulative durations of its
 * inference requests, as Triton reports them (docs/protocol/extension_statistics.md). Every
 * request is one execution (there is no dynamic batcher); its batch is the first dimension of
 * its first input. `queue` is time waiting for a kernel thread, which the pool does not report
 * apart from the run: it stays at zero, and the wait is part of `compute_infer`.
 */

export interface DurationStat {
  count: number;
  ns: number;
}

const duration = (): DurationStat => ({ count: 0, ns: 0 });

export interface ModelStat {
  readonly name: string;
  readonly version: string;
  last_inference: number;
  inference_count: number;
  execution_count: number;
  readonly inference_stats: {
    readonly success: DurationStat;
    readonly fail: DurationStat;
    readonly queue: DurationStat;
    readonly compute_input: DurationStat;
    readonly compute_infer: DurationStat;
    readonly compute_output: DurationStat;
    readonly cache_hit: DurationStat;
  };
  readonly batch_stats: {
    readonly batch_size: number;
    readonly compute_input: DurationStat;
    readonly compute_infer: DurationStat;
    readonly compute_output: DurationStat;
  }[];
}

/** Batch sizes tracked apart: past it they would let a client grow the answer without bound. */
const MAX_BATCH_SIZES = 64;

const newStat = (name: string): ModelStat => ({
  name,
  version: '1',
  last_inference: 0,
  inference_count: 0,
  execution_count: 0,
  inference_stats: {
    success: duration(),
    fail: duration(),
    queue: duration(),
    compute_input: duration(),
    compute_infer: duration(),
    compute_output: duration(),
    cache_hit: duration(),
  },
  batch_stats: [],
});

/** One request's timeline, in ns from process.hrtime.bigint(). */
export interface InferenceTiming {
  readonly start: bigint;
  /** When its inputs were decoded and it went to the kernel (undefined: it failed before). */
  readonly inferStart?: bigint;
  /** When the kernel answered. */
  readonly inferEnd?: bigint;
  readonly end: bigint;
}

const add = (d: DurationStat, ns: bigint) => {
  d.count++;
  d.ns += Number(ns);
};

export class ModelStatistics {
  readonly #stats = new Map<string, ModelStat>();

  #of(name: string): ModelStat {
    let s = this.#stats.get(name);
    if (!s) {
      s = newStat(name);
      this.#stats.set(name, s);
    }
    return s;
  }

  succeeded(name: string, batch: number, t: Required<InferenceTiming>): void {
    const s = this.#of(name);
    s.last_inference = Date.now();
    s.inference_count += batch;
    s.execution_count++;
    const i = s.inference_stats;
    add(i.success, t.end - t.start);
    add(i.compute_input, t.inferStart - t.start);
    add(i.compute_infer, t.inferEnd - t.inferStart);
    add(i.compute_output, t.end - t.inferEnd);
    let b = s.batch_stats.find((x) => x.batch_size === batch);
    if (!b && s.batch_stats.length < MAX_BATCH_SIZES) {
      b = { batch_size: batch, compute_input: duration(), compute_infer: duration(), compute_output: duration() };
      s.batch_stats.push(b);
      s.batch_stats.sort((x, y) => x.batch_size - y.batch_size);
    }
    if (b) {
      add(b.compute_input, t.inferStart - t.start);
      add(b.compute_infer, t.inferEnd - t.inferStart);
      add(b.compute_output, t.end - t.inferEnd);
    }
  }

  failed(name: string, t: InferenceTiming): void {
    const s = this.#of(name);
    s.last_inference = Date.now();
    add(s.inference_stats.fail, t.end - t.start);
  }

  /** The statistics of `name` (zeros if it never ran). */
  of(name: string): ModelStat {
    return structuredClone(this.#stats.get(name) ?? newStat(name));
  }

  /** Starts `name` from zero: a layer loaded again is a new model. */
  reset(name: string): void {
    this.#stats.delete(name);
  }
}

const addTo = (to: DurationStat, from: DurationStat) => {
  to.count += from.count;
  to.ns += from.ns;
};

/**
 * The statistics of the service from each server process's: counts and durations added up, the
 * latest inference of any, batch sizes merged (at most MAX_BATCH_SIZES of them, as in one
 * process). Entries of models not named are ignored; a model no process reported is all zeros.
 */
export function addUpStats(names: readonly string[], entries: readonly ModelStat[]): ModelStat[] {
  const sums = new Map(names.map((name) => [name, newStat(name)]));
  for (const e of entries) {
    const s = sums.get(e.name);
    if (s === undefined) continue;
    s.last_inference = Math.max(s.last_inference, e.last_inference);
    s.inference_count += e.inference_count;
    s.execution_count += e.execution_count;
    for (const key of Object.keys(s.inference_stats) as (keyof ModelStat['inference_stats'])[])
      addTo(s.inference_stats[key], e.inference_stats[key]);
    for (const b of e.batch_stats) {
      let to = s.batch_stats.find((x) => x.batch_size === b.batch_size);
      if (!to) {
        if (s.batch_stats.length >= MAX_BATCH_SIZES) continue;
        to = {
          batch_size: b.batch_size,
          compute_input: duration(),
          compute_infer: duration(),
          compute_output: duration(),
        };
        s.batch_stats.push(to);
      }
      addTo(to.compute_input, b.compute_input);
      addTo(to.compute_infer, b.compute_infer);
      addTo(to.compute_output, b.compute_output);
    }
  }
  for (const s of sums.values()) s.batch_stats.sort((x, y) => x.batch_size - y.batch_size);
  return [...sums.values()];
}
