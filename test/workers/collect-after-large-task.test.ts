import assert from 'node:assert/strict';
import { constants, type PerformanceEntry, PerformanceObserver } from 'node:perf_hooks';
import { describe, it } from 'node:test';
import { collectAfterLargeTask, LARGE_TASK_BYTES } from '../../workers/collect-after-large-task.js';

/** The forced full collections this thread runs while `body` does, and a turn after. */
async function forcedCollections(body: () => void): Promise<number> {
  const seen: PerformanceEntry[] = [];
  const observer = new PerformanceObserver((list) => seen.push(...list.getEntries()));
  observer.observe({ entryTypes: ['gc'] });
  body();
  await new Promise((r) => setTimeout(r, 50));
  observer.disconnect();
  return seen.filter(
    (e) =>
      ((e as PerformanceEntry & { detail: { flags: number } }).detail.flags &
        constants.NODE_PERFORMANCE_GC_FLAGS_FORCED) !==
      0,
  ).length;
}

describe('collectAfterLargeTask', () => {
  it('runs one full collection after a task that held large buffers, once per burst', async () => {
    assert.equal(await forcedCollections(() => collectAfterLargeTask(LARGE_TASK_BYTES)), 1);
    assert.equal(
      await forcedCollections(() => {
        for (let i = 0; i < 3; i++) collectAfterLargeTask(2 * LARGE_TASK_BYTES);
      }),
      1,
    );
  });

  it('leaves smaller tasks to V8', async () => {
    assert.equal(await forcedCollections(() => collectAfterLargeTask(LARGE_TASK_BYTES - 1)), 0);
  });
});
