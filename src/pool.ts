import { Piscina } from 'piscina';
import { runTask, type Task, type TaskResult } from '../workers/tasks.js';
import { ProblemError } from './problems.js';
import { elements, macs } from './split.js';
import { piscinaTransfer } from './transfer-list.js';
import { workerExecArgv } from './worker-exec-argv.js';

export interface PoolOptions {
  /** Kernel threads at most; a large task is split into this many parts (src/split.ts). */
  readonly workers: number;
  /**
   * Threads kept even when idle (default: all of them); the others start when tasks need them and
   * end after IDLE_THREAD_MS without one.
   */
  readonly warmWorkers?: number;
  /**
   * With several server processes: waits for one of the host's kernel slots before a task goes to
   * a thread (src/cluster/kernel-slots.ts), resolving with what gives it back.
   */
  readonly hostSlot?: (signal: AbortSignal) => Promise<() => void>;
  /** Requests that may wait for a worker; with `workers` running, the rest get 503. */
  readonly maxQueue: number;
  /** Conv tasks of at most this many multiply-adds and tensor elements run on the calling thread (`runsInline`); default 0, none. */
  readonly inlineMaxMacs?: number;
  /**
   * The worker module. Tests pass a faulty one (test/fixtures) to inject crashes; the service
   * itself always runs workers/pool-entry.js, and no configuration can change that.
   */
  readonly workerEntry?: URL;
  /** Told of every task's time in the pool (queued and running), for metrics. */
  readonly onTaskDone?: (op: string, seconds: number, outcome: 'ok' | 'error' | 'aborted') => void;
}

/** How long a thread beyond the warm ones may idle before it ends. */
export const IDLE_THREAD_MS = 10_000;

/** Seconds a client is told to wait when the queue is full: roughly one task's time. */
export const RETRY_AFTER_SECONDS = '1';

/** Why a task was aborted, when the route aborted it itself. */
export class DeadlineExceeded extends Error {
  override readonly name = 'DeadlineExceeded';
}

/** Why a task was aborted when its client hung up: nobody is left to read the answer. */
export class ClientClosed extends Error {
  override readonly name = 'ClientClosed';
  constructor() {
    super('the client closed the connection; its work was cancelled');
  }
}

/** Why a task was aborted when the shutdown grace period ran out before it finished. */
class ShutdownCancelled extends Error {
  override readonly name = 'ShutdownCancelled';
}

const DEFAULT_WORKER = new URL('../workers/pool-entry.js', import.meta.url);

/** How much lower than the main thread the kernel threads run (Linux niceness, 0..19). */
export const WORKER_NICENESS = 10;

/**
 * The worker threads that run kernels, and admission to them.
 *
 * Admission is counted in requests, not tasks: a request holds one of `workers + maxQueue` slots
 * from when its body is whole until its answer has been written (`reserve`): the slots bound the
 * work in flight, the memory budget (src/memory-budget.ts) the bytes. Input buffers are
 * moved to the worker (never copied; a stored layer's, in shared memory, are referenced) and results come back the same way; a full queue or a closing
 * pool is a 503, a deadline a 504. Aborting a task that is running ends its thread (Piscina), so
 * no cancelled kernel keeps burning a core; a thread that dies is replaced.
 */
export class KernelPool {
  readonly #piscina: Piscina<Task, TaskResult>;
  readonly #maxTasks: number;
  readonly #capacity: number;
  readonly #onTaskDone: NonNullable<PoolOptions['onTaskDone']>;
  readonly #inlineMaxMacs: number;
  readonly #maxThreads: number;
  readonly #hostSlot: PoolOptions['hostSlot'];
  /** Each task's own abort controller while it is queued or running: what cancelAll aborts. */
  readonly #inFlight = new Set<AbortController>();
  /** Set once the shutdown grace period has run out: a task started after it is cancelled at once. */
  #cancelled: ShutdownCancelled | null = null;
  #closing = false;
  #reserved = 0;

  constructor(opts: PoolOptions) {
    this.#capacity = opts.workers + opts.maxQueue;
    // Requests are bounded by the slots; a request may run as one part per worker (src/split.ts),
    // so the task queue has room for every part of every admitted request.
    this.#maxTasks = this.#capacity * opts.workers;
    this.#onTaskDone = opts.onTaskDone ?? (() => {});
    this.#inlineMaxMacs = opts.inlineMaxMacs ?? 0;
    this.#maxThreads = opts.workers;
    this.#hostSlot = opts.hostSlot;
    const warm = Math.min(opts.workers, opts.warmWorkers ?? opts.workers);
    this.#piscina = new Piscina({
      filename: (opts.workerEntry ?? DEFAULT_WORKER).href,
      minThreads: warm,
      maxThreads: opts.workers,
      maxQueue: this.#maxTasks,
      // Kernels hold their scratch between tasks: a warm worker is never let go for idling.
      idleTimeout: warm === opts.workers ? Number.MAX_SAFE_INTEGER : IDLE_THREAD_MS,
      atomics: 'disabled',
      execArgv: workerExecArgv(),
      // Kernel threads yield the CPU to the main thread, which parses, admits, answers health
      // probes and writes results: on a machine with no core to spare, liveness stays prompt.
      niceIncrement: WORKER_NICENESS,
    });
    // A worker that dies between tasks is replaced by Piscina; the error is not the caller's.
    this.#piscina.on('error', () => {});
  }

  get workers(): number {
    return this.#piscina.threads.length;
  }

  /**
   * The parts a large task is split into now: one per thread the pool may have that no other
   * task of this process holds, and at least one. On an idle host a request is spread over every
   * core; on a busy one it runs whole, beside the others, rather than paying for a split (the
   * parts' copies, and a kernel slot each) that buys no core the others are not already using.
   */
  get parallelism(): number {
    return Math.max(1, this.#maxThreads - this.#inFlight.size);
  }

  /** The ids of the running threads: a thread ended by an abort or a crash leaves this list. */
  get threadIds(): number[] {
    return this.#piscina.threads.map((t) => t.threadId);
  }

  /** Tasks a worker is running now. */
  get running(): number {
    return this.#piscina.threads.length - this.#piscina.idleThreads;
  }

  get queueSize(): number {
    return this.#piscina.queueSize;
  }

  /** Requests admitted and not yet answered (reading, decoding, queued, running or writing). */
  get reserved(): number {
    return this.#reserved;
  }

  /** How many requests may be admitted at once: one per worker plus MAX_QUEUE waiting. */
  get capacity(): number {
    return this.#capacity;
  }

  /** True when a new request would be refused: every slot is taken, the queue is full, or the pool is closing. */
  get saturated(): boolean {
    return this.#closing || this.#reserved >= this.#capacity || this.#queueFull();
  }

  get closing(): boolean {
    return this.#closing;
  }

  /**
   * Takes a slot for a request once its body is whole and valid, or refuses it (503 + Retry-After).
   * Shutdown is no reason to refuse: the request was let in before it began (`refuseIfFull`).
   * The returned function gives the slot back; calling it more than once is harmless.
   */
  reserve(): () => void {
    if (this.#reserved >= this.#capacity) throw queueFull();
    this.#reserved++;
    let held = true;
    return () => {
      if (held) this.#reserved--;
      held = false;
    };
  }

  /** Refuses (503) a request that `reserve` would refuse now, without taking a slot. */
  refuseIfFull(): void {
    this.#refuseIfClosing();
    if (this.#reserved >= this.#capacity || this.#queueFull()) throw queueFull();
  }

  /**
   * Refuses work now rather than after decoding a body the queue has no room for. Shutdown is not
   * a reason here: a request that holds a slot was admitted before it and is finished.
   */
  admit(): void {
    if (this.#queueFull()) throw queueFull();
  }

  /**
   * Whether a task is smaller than a round trip to a worker: a conv task of at most
   * `inlineMaxMacs` multiply-adds and as many elements of tensors. At the small op's size
   * (147,456 multiply-adds, a kernel of ~30-70 µs) the hop cost the main thread more than the
   * kernel itself, and the workers' time besides (BENCHMARKS.md, "Small tasks run inline"). The
   * element bound keeps off the main thread a task cheap in multiply-adds whose output is
   * large (a long stride), which would stall it zeroing and writing megabytes. Such a task goes
   * to `runInline`.
   */
  runsInline(task: Task): boolean {
    const g = task.geometry;
    return 'kind' in g && macs(g) <= this.#inlineMaxMacs && elements(g) <= this.#inlineMaxMacs;
  }

  /**
   * Runs a task (see `runsInline`) on the calling thread. Too short to need a deadline or a
   * hang-up watch; a task that comes after the shutdown grace period ran out is still refused.
   */
  runInline(task: Task): TaskResult {
    this.admit();
    if (this.#cancelled) throw whyAborted(this.#cancelled);
    const started = performance.now();
    const seconds = () => (performance.now() - started) / 1000;
    try {
      const results = runTask(task);
      this.#onTaskDone(task.op, seconds(), 'ok');
      return results;
    } catch (err) {
      this.#onTaskDone(task.op, seconds(), 'error');
      throw new Error(`the kernel failed running ${task.op}`, { cause: err });
    }
  }

  /** Runs a task on a worker, whatever its size; `signal` cancels it, queued or running. */
  async run(task: Task, signal: AbortSignal): Promise<TaskResult> {
    this.admit();
    // A stored layer's tensors live in shared memory: every thread sees them, none moves them.
    const transferList = Object.values(task.tensors).flatMap((t) =>
      t!.buffer instanceof SharedArrayBuffer ? [] : [t!.buffer as ArrayBuffer],
    );
    const started = performance.now();
    const seconds = () => (performance.now() - started) / 1000;
    // The caller's signal and the shutdown both end the task through one controller of its own
    // (AbortSignal.any would do it too, at the cost of weak references for the GC on every task).
    const own = new AbortController();
    const aborted = own.signal;
    const forward = () => own.abort(signal.reason);
    if (this.#cancelled) own.abort(this.#cancelled);
    else if (signal.aborted) forward();
    else signal.addEventListener('abort', forward, { once: true });
    this.#inFlight.add(own);
    let release: (() => void) | null = null;
    try {
      if (this.#hostSlot) release = await this.#hostSlot(aborted);
      const results = await this.#piscina.run(task, { transferList: piscinaTransfer(transferList), signal: aborted });
      this.#onTaskDone(task.op, seconds(), 'ok');
      return results;
    } catch (err) {
      this.#onTaskDone(task.op, seconds(), aborted.aborted ? 'aborted' : 'error');
      if (aborted.aborted) throw whyAborted(aborted.reason);
      const message = (err as Error).message;
      if (message === 'Task queue is at limit' || message.startsWith('No task queue available')) throw queueFull();
      // The pool ended this task's thread for a reason not of this request's making (another
      // request's cancellation, a close): nothing is wrong with the request, so it may retry.
      if (message === 'Terminating worker thread') {
        throw new ProblemError('unavailable', 'the worker running this request was stopped; retry', undefined, {
          'retry-after': RETRY_AFTER_SECONDS,
        });
      }
      // A kernel that threw or a worker that exited: a 500 for this request (its id is in the
      // problem document and the log); Piscina starts a new thread in place of a dead one.
      throw new Error(`the worker failed running ${task.op}`, { cause: err });
    } finally {
      release?.();
      signal.removeEventListener('abort', forward);
      this.#inFlight.delete(own);
    }
  }

  /** From now on new requests are refused (503) and readiness fails; queued and running ones go on. */
  stopAdmitting(): void {
    this.#closing = true;
  }

  /**
   * Ends every queued and running task (their threads too): for when the shutdown grace period
   * runs out. Their requests get a 503 with Retry-After, so clients retry elsewhere.
   */
  cancelAll(): void {
    this.#closing = true;
    this.#cancelled = new ShutdownCancelled('the service shut down before the work finished; retry');
    for (const task of this.#inFlight) task.abort(this.#cancelled);
  }

  /** Stops taking tasks, lets queued and running ones finish, then ends the threads. */
  async close(): Promise<void> {
    this.#closing = true;
    await this.#piscina.close();
  }

  #queueFull(): boolean {
    return this.#piscina.queueSize >= this.#maxTasks && this.#piscina.idleThreads === 0;
  }

  #refuseIfClosing(): void {
    if (this.#closing)
      throw new ProblemError('unavailable', 'the service is shutting down', undefined, {
        'retry-after': RETRY_AFTER_SECONDS,
      });
  }
}

function whyAborted(reason: unknown): unknown {
  if (reason instanceof DeadlineExceeded) return new ProblemError('timeout', reason.message);
  if (reason instanceof ClientClosed) return new ProblemError('client-closed', reason.message);
  if (reason instanceof ShutdownCancelled)
    return new ProblemError('unavailable', reason.message, undefined, { 'retry-after': RETRY_AFTER_SECONDS });
  return reason;
}

const queueFull = () =>
  new ProblemError('unavailable', 'the work queue is full; retry later', undefined, {
    'retry-after': RETRY_AFTER_SECONDS,
  });
