/**
 * A full garbage collection soon after a task that held large buffers, in the thread that ran it.
 *
 * A worker thread's tensors (inputs moved in, results, a parse's text and arrays) are far larger
 * than its JavaScript heap, and V8 collects by the heap's growth: measured in the memory load runs
 * (RELIABILITY.md), a conv request of 24 MB of JSON numbers left its parse and kernel threads
 * holding dead buffers until the process's RSS stood at 745 MiB for one client. The collection
 * runs after the task has answered, once per burst of large tasks, and costs a few ms of this
 * thread's time, never the main thread's.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** Tasks holding at least this many bytes are followed by a collection: above a DCGAN layer's 5 MB, whose requests come too often to pay for one each. */
export const LARGE_TASK_BYTES = 16 * 2 ** 20;

// `gc` is exposed only to contexts made after the flag is set: this module's own.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
let pending = false;

/** Schedules a collection after the current task if it held `bytes` or more. */
export function collectAfterLargeTask(bytes: number): void {
  if (bytes < LARGE_TASK_BYTES || pending) return;
  pending = true;
  setImmediate(() => {
    pending = false;
    gc();
  });
}
