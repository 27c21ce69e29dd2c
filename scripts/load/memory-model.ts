/**
 * The memory bound of RELIABILITY.md, "Memory model", as a formula the load run checks against.
 *
 * An op request holds one of WORKERS + MAX_QUEUE slots from before its body is read until its
 * answer is written. While it does, it holds at most: the body text (1 x MAX_BODY_BYTES), the
 * parsed body that keeps its strings (1 x), the decoded tensors (<= 0.75 x for base64, moved to a
 * worker when it runs) and an answer no larger than the request's (base64 text, then the
 * serialised JSON: ~1.3 x twice) — about 4 x MAX_BODY_BYTES live, plus, in the workers, the
 * result and scratch of the running tasks. Garbage not yet collected (bodies already answered,
 * bodies of refused requests that Node drained) adds up to ~2 x more before V8 frees it: 6 x.
 * On top: the process itself (V8, Fastify, the threads).
 */
import { PRIMARY_BASE_BYTES } from '../../src/memory-budget.js';

const MiB = 2 ** 20;

export const BYTES_PER_BODY_BYTE = 6;
/** Node, V8, Fastify, prom-client: what an idle process holds. */
export const PROCESS_BASE_BYTES = 192 * MiB;
/** One worker thread: its isolate, code and scratch for the load run's requests. */
export const WORKER_BASE_BYTES = 48 * MiB;

/** The bound for `processes` server processes (a primary besides when more than one), each with its own slots and threads. */
export function rssBound(workers: number, maxQueue: number, maxBodyBytes: number, processes = 1): number {
  const each =
    PROCESS_BASE_BYTES + workers * WORKER_BASE_BYTES + (workers + maxQueue) * BYTES_PER_BODY_BYTE * maxBodyBytes;
  return (processes > 1 ? PRIMARY_BASE_BYTES : 0) + processes * each;
}
