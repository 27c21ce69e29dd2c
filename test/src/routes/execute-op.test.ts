import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { OFF_LOOP_BYTES } from '../../../src/tensor/off-loop-parse.js';
import { build } from '../../helpers/build.js';
import { send } from '../../helpers/http.js';

/**
 * A request whose tensors disagree in dtype is a 422 that blames fields the request set: a
 * tensor that left dtype out (or null) took float32, and the message names it as the default.
 */
let app: FastifyInstance;
before(async () => {
  app = await build(null);
});
after(async () => {
  await app.close();
});

type Dtype = 'float32' | 'float64';
const count = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** A tensor of 0.5s as JSON numbers; `dtype` as given, or left out when undefined. */
const json = (shape: number[], dtype?: Dtype | null) => ({
  shape,
  ...(dtype === undefined ? {} : { dtype }),
  data: new Array(count(shape)).fill(0.5),
});

/** The same as base64 of the bytes of its dtype (float32 when left out). */
const base64 = (shape: number[], dtype?: Dtype | null) => {
  const values = new (dtype === 'float64' ? Float64Array : Float32Array)(count(shape)).fill(0.5);
  const b64 = Buffer.from(values.buffer).toString('base64');
  return { shape, ...(dtype === undefined ? {} : { dtype }), b64 };
};

async function dtypeProblem(body: object) {
  const res = await send(app, {
    method: 'POST',
    url: '/v1/conv2d/forward',
    payload: JSON.stringify(body),
    headers: { 'content-type': 'application/json' },
  });
  assert.equal(res.statusCode, 422, res.body.slice(0, 300));
  const problem = res.json();
  assert.match(problem.type, /inconsistent-request$/);
  return { detail: problem.detail as string, errors: problem.errors as { path: string; message: string }[] };
}

for (const [encoding, tensor] of [
  ['JSON numbers', json],
  ['base64', base64],
] as const) {
  describe(`mixed dtypes, tensors as ${encoding}`, () => {
    it('blames the tensor that set its dtype, naming the other float32 as the default', async () => {
      const got = await dtypeProblem({ input: tensor([1, 1, 3, 3], 'float64'), weight: tensor([1, 1, 2, 2]) });
      assert.equal(
        got.detail,
        'all tensors must share one dtype: input.dtype is float64 but weight.dtype is float32 (the default)',
      );
      assert.deepEqual(got.errors, [
        { path: 'input.dtype', message: 'is float64 but weight.dtype is float32 (the default)' },
      ]);
    });

    it('takes a null dtype as left out', async () => {
      const got = await dtypeProblem({ input: tensor([1, 1, 3, 3], null), weight: tensor([1, 1, 2, 2], 'float64') });
      assert.deepEqual(got.errors, [
        { path: 'weight.dtype', message: 'is float64 but input.dtype is float32 (the default)' },
      ]);
    });

    it('blames every tensor that disagrees with the default, and only those', async () => {
      const got = await dtypeProblem({
        input: tensor([1, 1, 3, 3], 'float64'),
        weight: tensor([1, 1, 2, 2], 'float64'),
        bias: tensor([1]),
      });
      assert.deepEqual(
        got.errors.map((e) => e.path),
        ['input.dtype', 'weight.dtype'],
      );
      assert.ok(got.errors.every((e) => e.message.endsWith('but bias.dtype is float32 (the default)')));
    });

    it('says nothing of a default when every dtype was given', async () => {
      const got = await dtypeProblem({
        input: tensor([1, 1, 3, 3], 'float32'),
        weight: tensor([1, 1, 2, 2], 'float64'),
      });
      assert.equal(got.detail, 'all tensors must share one dtype: weight.dtype is float64 but input.dtype is float32');
    });
  });
}

describe('mixed dtypes in a body parsed off the event loop', () => {
  it('still knows which dtype was left out', async () => {
    const side = Math.ceil(Math.sqrt(OFF_LOOP_BYTES / 4)) + 1;
    const got = await dtypeProblem({ input: json([1, 1, side, side], 'float64'), weight: json([1, 1, 2, 2]) });
    assert.deepEqual(got.errors, [
      { path: 'input.dtype', message: 'is float64 but weight.dtype is float32 (the default)' },
    ]);
  });
});

describe('tensors that agree', () => {
  it('run whether their dtype was given or left to the default', async () => {
    const res = await send(app, {
      method: 'POST',
      url: '/v1/conv2d/forward',
      payload: JSON.stringify({ input: json([1, 1, 3, 3], 'float32'), weight: json([1, 1, 2, 2]) }),
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(res.statusCode, 200, res.body.slice(0, 300));
    assert.equal(res.json().output.dtype, 'float32');
  });
});
