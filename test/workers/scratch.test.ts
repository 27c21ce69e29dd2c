import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { scratch } from '../../workers/scratch.js';

describe('scratch', () => {
  it('gives exactly the length asked for, in the dtype asked for', () => {
    const a = scratch('float32', 5);
    const b = scratch('float64', 3);
    assert.ok(a instanceof Float32Array);
    assert.ok(b instanceof Float64Array);
    assert.equal(a.length, 5);
    assert.equal(b.length, 3);
  });

  it('reuses one buffer per dtype until a request outgrows it, then grows', () => {
    const large = scratch('float64', 64);
    const small = scratch('float64', 16);
    assert.equal(small.buffer, large.buffer);
    assert.notEqual(scratch('float32', 16).buffer, large.buffer);
    const larger = scratch('float64', 65);
    assert.equal(larger.length, 65);
    assert.notEqual(larger.buffer, large.buffer);
    assert.equal(scratch('float64', 64).buffer, larger.buffer);
  });

  it('gives an empty view for length 0', () => {
    assert.equal(scratch('float32', 0).length, 0);
  });
});
