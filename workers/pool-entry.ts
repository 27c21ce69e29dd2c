/**
 * The Piscina worker: runs one task and moves its result buffers back to the main thread (the
 * task's input buffers arrived the same way), so no tensor is copied between threads.
 */
import { move, transferableSymbol, valueSymbol } from 'piscina';
import { collectAfterLargeTask } from './collect-after-large-task.js';
import type { FloatArray } from './geometry.js';
import { type ResultName, runTask, type Task } from './tasks.js';

type Results = Partial<Record<ResultName, FloatArray>>;

/** Piscina's Transferable protocol: the value to send, and the buffers to move with it. */
class MovedResults {
  constructor(private readonly results: Results) {}
  get [transferableSymbol](): ArrayBuffer[] {
    const buffers = new Set<ArrayBuffer>();
    for (const r of Object.values(this.results)) if (r) buffers.add(r.buffer as ArrayBuffer);
    return [...buffers];
  }
  get [valueSymbol](): Results {
    return this.results;
  }
}

export default function run(task: Task): unknown {
  const results = runTask(task);
  let bytes = 0;
  // A stored layer's shared tensors are not this task's garbage.
  for (const t of [...Object.values(task.tensors), ...Object.values(results)])
    if (t && !(t.buffer instanceof SharedArrayBuffer)) bytes += t.byteLength;
  collectAfterLargeTask(bytes);
  return move(new MovedResults(results) as never);
}
