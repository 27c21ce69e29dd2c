import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { z } from 'zod';
import { fastPathOf } from '../../../src/schemas/fast-path.js';
import * as S from '../../../src/schemas/ops.js';

/** A value spelled with its keys in order and undefined shown, so that order and presence are compared too. */
const spelled = (v: unknown) => JSON.stringify(v, (_k, x: unknown) => (x === undefined ? '<undefined>' : x));

const b64Of = (bytes: number) => Buffer.alloc(bytes, 7).toString('base64');

/** Tensors valid and not: matching or mismatched lengths, both or neither of data and b64, odd keys and types. */
const tensorValue = fc.oneof(
  fc.record({ shape: fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 4 }), dtype: fc.constantFrom('float32', 'float64', null, undefined, 'int8') }).chain(({ shape, dtype }) => {
    const count = shape.reduce((a, b) => a * b, 1);
    const bytes = count * (dtype === 'float64' ? 8 : 4);
    const withDtype = dtype === undefined ? {} : { dtype };
    return fc.oneof(
      { arbitrary: fc.constant({ shape, ...withDtype, b64: b64Of(bytes) }), weight: 12 },
      fc.constant({ shape, ...withDtype, b64: b64Of(bytes + 1) }),
      fc.constant({ shape, ...withDtype, data: Array.from({ length: count }, (_, i) => i / 3) }),
      fc.constant({ shape, ...withDtype, data: [...Array.from({ length: count - 1 }, () => 1), 'NaN'] }),
      fc.constant({ shape, ...withDtype, data: [...Array.from({ length: count - 1 }, () => 1), 1e300] }),
      fc.constant({ shape, ...withDtype, data: [...Array.from({ length: count - 1 }, () => 1), 'nan'] }),
      fc.constant({ shape, ...withDtype, data: null, b64: b64Of(bytes) }),
      fc.constant({ shape, ...withDtype, data: Array.from({ length: count }, () => 0), b64: null }),
      fc.constant({ shape, ...withDtype, data: Array.from({ length: count }, () => 0), b64: b64Of(bytes) }),
      fc.constant({ shape, ...withDtype }),
      fc.constant({ shape, ...withDtype, b64: b64Of(bytes), extra: 1 }),
      fc.constant({ shape: [...shape, 0], ...withDtype, b64: b64Of(bytes) }),
      fc.constant({ shape: [1.5], ...withDtype, b64: b64Of(bytes) }),
      fc.constant({ shape: [1, 1, 1, 1, 1], ...withDtype, b64: b64Of(4) }),
      fc.constant({ shape: [], ...withDtype, b64: '' }),
    );
  }),
  fc.constantFrom(null, 1, 'x', [], [1], true),
);
const tensorOrNot = fc.oneof({ arbitrary: tensorValue, weight: 4 }, fc.constantFrom(null, 1, 'x', [], [1], true));

const param = fc.oneof(
  { arbitrary: fc.oneof(fc.integer({ min: 0, max: 3 }), fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 }))), weight: 8 },
  fc.integer({ min: -2, max: 4 }),
  fc.constantFrom(0.5, -0, 2 ** 31, 2 ** 31 - 1, null, 'x', true, 1e300),
  fc.array(fc.integer({ min: -1, max: 3 }), { minLength: 0, maxLength: 3 }),
  fc.constant([1, 0.5]),
);
const encoding = fc.oneof({ arbitrary: fc.constantFrom('json', 'base64', null), weight: 6 }, fc.constantFrom('hex', 1, undefined));

function body(keys: readonly string[]) {
  const entries = fc.record({
    input: tensorOrNot, weight: tensorOrNot, bias: tensorOrNot, stride: param, padding: param, dilation: param, groups: param, outputPadding: param,
    outputEncoding: encoding, kernelSize: param, other: fc.constant(1),
  }, { requiredKeys: [] });
  // Mostly the schema's own keys, now and then another one.
  return fc.tuple(entries, fc.integer({ min: 0, max: 49 })).map(([b, stray]) => Object.fromEntries(Object.entries(b).filter(([k]) => keys.includes(k) || stray === 0)));
}

describe('the validation fast path', () => {
  for (const [name, schema] of [['conv-transpose2d/forward', S.ConvTranspose2dForwardBody], ['conv2d/forward', S.Conv2dForwardBody]] as const) {
    it(`${name}: gives exactly what zod gives, or leaves the body to zod (fast-check)`, () => {
      const fast = fastPathOf(schema as z.ZodType)!;
      assert.ok(fast, 'the schema has a fast path');
      const keys = Object.keys(schema.shape);
      let taken = 0;
      let runs = 0;
      fc.assert(
        fc.property(body(keys), fc.boolean(), fc.subarray(keys), (b, valid, kept) => {
          runs++;
          // Half the runs keep only some of the generated fields, with valid tensors: the fast path is taken often enough to matter.
          const some = Object.fromEntries(Object.entries(b).filter(([k]) => kept.includes(k)));
          const input = valid ? { ...some, input: { shape: [1, 2, 2, 2], b64: b64Of(32) }, weight: { shape: [2, 2, 1, 1], dtype: 'float32', b64: b64Of(16) } } : b;
          const mine = fast(input);
          const zods = schema.safeParse(input);
          if (mine === undefined) return;
          taken++;
          assert.ok(zods.success, `zod refuses what the fast path took: ${spelled(input)}`);
          assert.equal(spelled(mine), spelled(zods.data), spelled(input));
          assert.deepStrictEqual(mine, zods.data);
        }),
        { numRuns: 3000 },
      );
      assert.ok(taken > runs / 10, `the fast path took ${taken} of ${runs} bodies`);
    });
  }

  it('passes tensor data through uncopied, as zod does, and copies shapes and pairs', () => {
    const data = [1, 2, 3, 4];
    const body = { input: { shape: [1, 1, 2, 2], data }, weight: { shape: [1, 1, 1, 1], data: [1] }, padding: [0, 1] };
    const mine = fastPathOf(S.ConvTranspose2dForwardBody)!(body) as { input: { data: unknown; shape: unknown }; padding: unknown };
    const zods = S.ConvTranspose2dForwardBody.parse(body) as unknown as typeof mine;
    assert.equal(mine.input.data, data);
    assert.equal(zods.input.data, data);
    assert.notEqual(mine.input.shape, body.input.shape);
    assert.notEqual(mine.padding, body.padding);
  });

  it('is only for the schemas it was written for', () => {
    assert.equal(fastPathOf(S.Conv2dBackwardBody), undefined);
  });
});
