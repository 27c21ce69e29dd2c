import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { commaCount } from '../../../src/tensor/json-bytes.js';

/** Runs a stepped count to its end; returns its result and the steps it yielded. */
function run(steps: Generator<void, number, void>): { count: number; yields: number } {
  let yields = 0;
  for (;;) {
    const step = steps.next();
    if (step.done) return { count: step.value, yields };
    yields++;
  }
}

describe('commaCount', () => {
  it('counts every comma of a text, in strings too', () => {
    assert.deepEqual(run(commaCount(Buffer.from('{"a":[0,1,2],"b":"x,y"}'))), { count: 4, yields: 0 });
    assert.deepEqual(run(commaCount(Buffer.alloc(0))), { count: 0, yields: 0 });
  });

  it('counts a piece at a time, yielding between pieces and never after the last', () => {
    const text = Buffer.from('0,'.repeat(50));
    assert.deepEqual(run(commaCount(text, 10)), { count: 50, yields: 9 });
    assert.deepEqual(run(commaCount(text, 100)), { count: 50, yields: 0 });
    assert.deepEqual(run(commaCount(text, 99)), { count: 50, yields: 1 });
  });
});
