import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { z } from 'zod';
import { firstFailureRecord } from '../../../src/schemas/bounded.js';
import { pair } from '../../../src/schemas/common.js';
import { TensorSchema } from '../../../src/schemas/tensor.js';
import { InferenceRequestSchema } from '../../../src/v2/schemas.js';

const issuesOf = (schema: z.ZodType, value: unknown) => {
  const result = schema.safeParse(value);
  return result.success ? [] : result.error.issues.map((i) => ({ path: i.path, message: i.message }));
};

describe('request arrays', () => {
  it('cost a handful of issues however many bad elements they hold: shapes, pairs, /v2 inputs', () => {
    assert.ok(issuesOf(TensorSchema, { shape: new Array(100_000).fill('x'), data: [1] }).length <= 5);
    assert.ok(issuesOf(pair(1, 'a pair'), new Array(100_000).fill('x')).length <= 5);
    const input = { name: 'input', shape: [1], datatype: 'FP32', data: [1] };
    assert.deepEqual(
      issuesOf(InferenceRequestSchema, { inputs: new Array(100_000).fill({}) }).map((i) => i.path),
      [['inputs']],
    );
    assert.deepEqual(
      issuesOf(InferenceRequestSchema, { inputs: new Array(17).fill(input) }).map((i) => i.path),
      [['inputs']],
    );
    assert.deepEqual(
      issuesOf(InferenceRequestSchema, { inputs: [input], outputs: new Array(100_000).fill({}) }).map((i) => i.path),
      [['outputs']],
    );
  });
});

describe('firstFailureRecord', () => {
  const value = z.union([z.string(), z.number()]);
  const record = firstFailureRecord(value, 'scalars');

  it('reports the first bad entry alone, at its key, where zod reports each', () => {
    const entries = Object.fromEntries(Array.from({ length: 100_000 }, (_, i) => [`k${i}`, i < 3 ? i : [i]]));
    assert.equal(issuesOf(z.record(z.string(), value), entries).length, 100_000 - 3);
    const issues = issuesOf(record, entries);
    assert.equal(issues.length, 1);
    assert.deepEqual(issues[0].path, ['k3']);
  });

  it("gives zod's verdict on any value (fast-check)", () => {
    const plain = z.record(z.string(), value);
    const entry = fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null));
    fc.assert(
      fc.property(fc.oneof(fc.dictionary(fc.string(), entry, { maxKeys: 4 }), entry, fc.array(entry)), (v) => {
        assert.equal(record.safeParse(v).success, plain.safeParse(v).success);
        if (plain.safeParse(v).success) assert.deepEqual(record.parse(v), plain.parse(v));
      }),
      { numRuns: 500 },
    );
  });
});
