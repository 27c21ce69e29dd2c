import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { addUpStats, ModelStatistics } from '../../../src/models/stats.js';

const timing = (ns: number) => ({ start: 0n, inferStart: BigInt(ns), inferEnd: BigInt(3 * ns), end: BigInt(6 * ns) });

describe("the statistics of the service from each server process's", () => {
  it('adds up counts and durations, keeps the latest inference and merges batch sizes', () => {
    const one = new ModelStatistics();
    const two = new ModelStatistics();
    one.succeeded('up', 1, timing(10));
    one.succeeded('up', 4, timing(100));
    two.succeeded('up', 4, timing(1000));
    two.failed('up', { start: 0n, end: 7n });
    const [a, b] = [one.of('up'), two.of('up')];
    a.last_inference = 5;
    b.last_inference = 9;
    const [sum] = addUpStats(['up'], [a, b]);
    assert.equal(sum!.last_inference, 9);
    assert.equal(sum!.inference_count, 9);
    assert.equal(sum!.execution_count, 3);
    assert.deepEqual(sum!.inference_stats.success, { count: 3, ns: 6660 });
    assert.deepEqual(sum!.inference_stats.compute_infer, { count: 3, ns: 2220 });
    assert.deepEqual(sum!.inference_stats.fail, { count: 1, ns: 7 });
    assert.deepEqual(
      sum!.batch_stats.map((s) => [s.batch_size, s.compute_input.count, s.compute_input.ns, s.compute_output.ns]),
      [
        [1, 1, 10, 30],
        [4, 2, 1100, 3300],
      ],
    );
  });

  it('answers every model named, in order, zeros for one nobody ran, and ignores models not asked for', () => {
    const one = new ModelStatistics();
    one.succeeded('up', 1, timing(10));
    const sums = addUpStats(['down', 'up'], [one.of('other'), one.of('up')]);
    assert.deepEqual(
      sums.map((s) => [s.name, s.execution_count]),
      [
        ['down', 0],
        ['up', 1],
      ],
    );
    assert.deepEqual(sums[0], new ModelStatistics().of('down'));
  });
});
