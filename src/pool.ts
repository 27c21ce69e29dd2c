import { Piscina } from 'piscina';
import type { FloatArray } from '../workers/geometry.js';
import type { ResultName, Task } from '../workers/tasks.js';
import { ProblemError } from './problems.js';

export type TaskResults = Partial<Record<ResultName, FloatArray>>;

export interface PoolOptions {
  readonly workers: number;
  readonly maxQueue: number;
  /** Told of every task's time in the pool (queued and running), for metrics. */
  readonly onTaskDone?: (op: string, seconds: number, outcome: 'ok' | 'error' | 'aborted') => void;
}

/** Seconds a client is told to wait when the queue is full: roughly one task's time. */
const RETRY_AFTER_SECONDS = '1';

/** Why a task was aborted, when the route aborted it itself. */
export class DeadlineExceeded extends Error {
  override readonly name = 'DeadlineExceeded';
}

/**
 * The worker threads that run kernels. Input buffers are moved to the worker (never copied) and
 * results come back the same way; a full queue or a closing pool is a 503, a deadline a 504.
 */
export class KernelPool {
  readonly #piscina: Piscina<Task, TaskResults>;
  readonly #maxQueue: number;
  readonly #onTaskDone: NonNullable<PoolOptions['onTaskDone']>;
  #closing = false;

  constructor(opts: PoolOptions) {
    this.#maxQueue = opts.maxQueue;
    this.#onTaskDone = opts.onTaskDone ?? (() => {});
    this.#piscina = new Piscina({
      filename: new URL('../workers/pool-entry.js', import.meta.url).href,
      minThreads: opts.workers,
      maxThreads: opts.workers,
      maxQueue: opts.maxQueue,
      // Kernels hold their scratch between tasks: a worker is never let go for idling.
      idleTimeout: Number.MAX_SAFE_INTEGER,
      atomics: 'disabled',
    });
  }

  get workers(): number {
    return this.#piscina.threads.length;
  }

  get queueSize(): number {
    return this.#piscina.queueSize;
  }

  /** True when a new task would be refused: the queue is full, or the pool is closing. */
  get saturated(): boolean {
    return this.#closing || (this.#piscina.queueSize >= this.#maxQueue && this.#piscina.idleThreads === 0);
  }

  get closing(): boolean {
    return this.#closing;
  }

  /** Refuses work now rather than after decoding a body the queue has no room for. */
  admit(): void {
    if (this.#closing) throw new ProblemError('unavailable', 'the service is shutting down', undefined, { 'retry-after': RETRY_AFTER_SECONDS });
    if (this.saturated) throw queueFull();
  }

  async run(task: Task, signal: AbortSignal): Promise<TaskResults> {
    this.admit();
    const transferList = Object.values(task.tensors).map((t) => t!.buffer as ArrayBuffer);
    const started = performance.now();
    const seconds = () => (performance.now() - started) / 1000;
    try {
      const results = await this.#piscina.run(task, { transferList, signal });
      this.#onTaskDone(task.op, seconds(), 'ok');
      return results;
    } catch (err) {
      this.#onTaskDone(task.op, seconds(), signal.aborted ? 'aborted' : 'error');
      if (signal.aborted) {
        if (signal.reason instanceof DeadlineExceeded) throw new ProblemError('timeout', signal.reason.message);
        throw signal.reason;
      }
      const message = (err as Error).message;
      if (message === 'Task queue is at limit' || message.startsWith('No task queue available')) throw queueFull();
      throw err;
    }
  }

  /** From now on new tasks are refused (503) and readiness fails; queued and running ones go on. */
  stopAdmitting(): void {
    this.#closing = true;
  }

  /** Stops taking tasks, lets queued and running ones finish, then ends the threads. */
  async close(): Promise<void> {
    this.#closing = true;
    await this.#piscina.close();
  }
}

const queueFull = () =>
  new ProblemError('unavailable', 'the work queue is full; retry later', undefined, { 'retry-after': RETRY_AFTER_SECONDS });
