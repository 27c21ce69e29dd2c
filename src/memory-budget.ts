import { totalmem } from 'node:os';
import { getHeapStatistics } from 'node:v8';
import { readCgroupFile } from './cpu-limit.js';
import { RETRY_AFTER_SECONDS } from './pool.js';
import { ProblemError } from './problems.js';

const MiB = 2 ** 20;

/** Node, V8, Fastify, prom-client: what an idle process holds before any request. */
export const PROCESS_BASE_BYTES = 192 * MiB;
/** One kernel thread: its isolate, code and scratch. */
export const WORKER_BASE_BYTES = 48 * MiB;
/** The primary of several server processes (src/cluster/primary.ts): Node and prom-client, no app. */
export const PRIMARY_BASE_BYTES = 64 * MiB;

/** Where the memory the process may use was read, first found first. */
export const CGROUP_LIMIT_FILES = ['/sys/fs/cgroup/memory.max', '/sys/fs/cgroup/memory/memory.limit_in_bytes'] as const;

/** cgroup v1 writes "no limit" as a huge number near 2^63; anything past this is taken as none. */
const NO_LIMIT = 2 ** 60;

export interface BudgetFacts {
  /** MEMORY_BUDGET_BYTES, when set: taken as it is. */
  readonly configured?: number;
  readonly workers: number;
  /** Server processes sharing the memory (HTTP_PROCESSES); a primary then holds some too. */
  readonly processes?: number;
  /**
   * MAX_STORED_BYTES: what each server process's stored layers may hold beside its requests (in
   * SharedArrayBuffers, outside V8's heap), set aside from a derived budget.
   */
  readonly storedBytes?: number;
  /** The cgroup files to read, in order (tests give fake ones). */
  readonly limitFiles?: readonly string[];
  readonly machineBytes?: number;
  readonly heapLimitBytes?: number;
}

export interface Budget {
  readonly bytes: number;
  /** Where the figure came from, in words, for the start-up log. */
  readonly source: string;
}

/** A cgroup memory limit file's value in bytes, or null when it sets none or cannot be read. */
function readLimit(path: string): number | null {
  const text = readCgroupFile(path);
  if (text === null || !/^\d+$/.test(text)) return null; // "max": no limit
  const bytes = Number(text);
  return bytes > 0 && bytes < NO_LIMIT ? bytes : null;
}

/**
 * The bytes one server process's requests may hold at once. MEMORY_BUDGET_BYTES, if set, is the
 * service's and each of its processes gets an equal share; otherwise each gets an equal share of
 * what the service may really use (the container's cgroup limit, else the machine's memory, less
 * what a primary holds when there are several processes), less what its stored layers may hold,
 * never more than V8's heap limit (where parsed JSON lives), less what its idle process and its
 * kernel threads hold. A configured budget is the operator's figure for requests alone.
 */
export function deriveBudget(facts: BudgetFacts): Budget {
  const processes = facts.processes ?? 1;
  const shared = processes > 1 ? ` / ${processes} server processes` : '';
  if (facts.configured !== undefined)
    return { bytes: Math.floor(facts.configured / processes), source: `MEMORY_BUDGET_BYTES${shared}` };
  const idle = PROCESS_BASE_BYTES + facts.workers * WORKER_BASE_BYTES;
  let limit = facts.machineBytes ?? totalmem();
  let source = "the machine's memory";
  for (const file of facts.limitFiles ?? CGROUP_LIMIT_FILES) {
    const bytes = readLimit(file);
    if (bytes !== null) {
      limit = bytes;
      source = `the cgroup limit in ${file}`;
      break;
    }
  }
  if (processes > 1) {
    limit = Math.floor((limit - PRIMARY_BASE_BYTES) / processes);
    source = `${source} less ${PRIMARY_BASE_BYTES / MiB} MiB for the primary${shared}`;
  }
  const stored = facts.storedBytes ?? 0;
  if (stored > 0) {
    limit -= stored;
    source = `${source} less ${Math.round(stored / MiB)} MiB for stored layers (MAX_STORED_BYTES)`;
  }
  const heap = facts.heapLimitBytes ?? getHeapStatistics().heap_size_limit;
  if (heap < limit) {
    limit = heap;
    source = `V8's heap limit (below ${source})`;
  }
  const bytes = Math.max(64 * MiB, limit - idle);
  return {
    bytes,
    source: `${source}, ${Math.round(limit / MiB)} MiB, less ${Math.round(idle / MiB)} MiB for the idle process and ${facts.workers} kernel threads`,
  };
}

/**
 * The memory requests may hold, counted in bytes they are expected to hold (src/memory-model.ts).
 * A request's charge grows as its body arrives and when its answer's size is known, and is given
 * back when its answer has been written; a charge that would pass the budget is refused.
 */
export class MemoryBudget {
  readonly total: number;
  #charged = 0;
  #refusals = 0;
  #open = 0;

  constructor(total: number) {
    this.total = total;
  }

  /** Bytes charged to requests in flight. */
  get charged(): number {
    return this.#charged;
  }

  /** Requests holding a charge (admitted and not yet answered). */
  get requests(): number {
    return this.#open;
  }

  /** Requests refused for memory (503 or 413) since start. */
  get refusals(): number {
    return this.#refusals;
  }

  /** Whether `bytes` more would fit now. */
  fits(bytes: number): boolean {
    return this.#charged + bytes <= this.total;
  }

  /** A new charge of 0 bytes, for one request. */
  open(): Charge {
    let bytes = 0;
    let released = false;
    this.#open++;
    return {
      get bytes() {
        return bytes;
      },
      set: (want, what) => {
        if (released) return;
        const delta = want - bytes;
        if (delta > 0 && !this.fits(delta)) throw this.#refuse(want, what);
        this.#charged += delta;
        bytes = want;
      },
      release: () => {
        if (released) return;
        this.#charged -= bytes;
        this.#open--;
        bytes = 0;
        released = true;
      },
    };
  }

  /** Refuses `what` before any of it is held, when `bytes` could never fit or do not fit now. */
  check(bytes: number, what: string): void {
    if (!this.fits(bytes)) throw this.#refuse(bytes, what);
  }

  /** A refusal, counted: 413 when `bytes` could never fit, else 503 + Retry-After. */
  #refuse(bytes: number, what: string): ProblemError {
    this.#refusals++;
    const mib = (n: number) => `${(n / MiB).toFixed(1)} MiB`;
    if (bytes > this.total) {
      return new ProblemError(
        'too-large',
        `${what} would hold about ${mib(bytes)} while it runs, more than the service's memory budget of ${mib(this.total)} (MEMORY_BUDGET_BYTES)`,
      );
    }
    return new ProblemError(
      'unavailable',
      `the service's memory budget is taken by requests in flight (${what} needs about ${mib(bytes)}); retry later`,
      undefined,
      { 'retry-after': RETRY_AFTER_SECONDS },
    );
  }
}

/** One request's share of the budget. */
export interface Charge {
  readonly bytes: number;
  /**
   * Sets the charge to `bytes` (more or less than before), or throws the budget's refusal (503,
   * or 413 when it could never fit), leaving the charge as it was. A released charge stays at 0.
   */
  set(bytes: number, what: string): void;
  release(): void;
}
