import { EXIT, SLEEP, THROW } from '../fixtures/faulty-worker.js';

/** The test-only worker that fails on demand (test/fixtures/faulty-worker.ts), for buildApp's workerEntry. */
export const faultyWorker = new URL('../fixtures/faulty-worker.js', import.meta.url);

/** im2col bodies that make the faulty worker throw, exit, or sleep `ms` before answering. */
export const throwingBody = { input: { shape: [1, 1, 2], data: [THROW, 0] }, kernelSize: 1 };
export const exitingBody = { input: { shape: [1, 1, 2], data: [EXIT, 0] }, kernelSize: 1 };
export const sleepingBody = (ms: number) => ({ input: { shape: [1, 1, 2], data: [SLEEP, ms] }, kernelSize: 1 });
export const smallBody = { input: { shape: [1, 1, 2], data: [1, 2] }, kernelSize: 1 };

/** Waits (bounded: generously, for a busy machine) until `condition` holds; the caller asserts it afterwards. */
export async function until(condition: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!condition() && Date.now() < end) await new Promise((r) => setTimeout(r, 2));
}

/** Counts the turns of the event loop from now until the returned function is called: how often other work got through. */
export function countTurns(): () => number {
  let turns = 0;
  let counting = true;
  const tick = () => {
    turns++;
    if (counting) setImmediate(tick);
  };
  setImmediate(tick);
  return () => {
    counting = false;
    return turns;
  };
}
