/**
 * The golden files themselves: every route and dtype is covered, every request is a well-formed
 * body of its route, and the kinds of case the generator promises are really there. This needs
 * none of the code under test, so it guards the fixtures even while the kernels are broken.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
  allGoldenFiles,
  DTYPES,
  GOLDEN_ROUTES,
  type GoldenCase,
  type GoldenRequest,
  type GoldenRoute,
  type GoldenTensor,
  goldenFileName,
  loadGolden,
} from './fixtures.js';
import { computeBiasOf, convParams, pair } from './request.js';

const TENSOR_FIELDS = ['input', 'weight', 'bias', 'gradOutput', 'gradWeight', 'gradBias', 'columns'] as const;
const CONV_PARAMS = ['stride', 'padding', 'outputPadding', 'dilation', 'groups'] as const;
const WINDOW_PARAMS = ['kernelSize', 'stride', 'padding', 'dilation'] as const;

/** The body fields of each route (docs/api.md), and the result fields of its answer. */
const FIELDS: Record<GoldenRoute, { body: readonly string[]; results: readonly string[] }> = {
  '/v1/conv-transpose2d/forward': { body: ['input', 'weight', 'bias', ...CONV_PARAMS], results: ['output'] },
  '/v1/conv-transpose2d/grad-input': {
    body: ['gradOutput', 'weight', 'inputShape', ...CONV_PARAMS],
    results: ['gradInput'],
  },
  '/v1/conv-transpose2d/grad-parameters': {
    body: ['input', 'gradOutput', 'kernelSize', 'gradWeight', 'gradBias', 'scale', 'computeBias', ...CONV_PARAMS],
    results: ['gradWeight', 'gradBias'],
  },
  '/v1/conv-transpose2d/backward': {
    body: ['input', 'gradOutput', 'weight', 'scale', 'computeBias', ...CONV_PARAMS],
    results: ['gradInput', 'gradWeight', 'gradBias'],
  },
  '/v1/conv2d/forward': {
    body: ['input', 'weight', 'bias', 'stride', 'padding', 'dilation', 'groups'],
    results: ['output'],
  },
  '/v1/conv2d/grad-input': {
    body: ['gradOutput', 'weight', 'inputShape', 'stride', 'padding', 'dilation', 'groups'],
    results: ['gradInput'],
  },
  '/v1/conv2d/grad-parameters': {
    body: [
      'input',
      'gradOutput',
      'kernelSize',
      'gradWeight',
      'gradBias',
      'scale',
      'computeBias',
      'stride',
      'padding',
      'dilation',
      'groups',
    ],
    results: ['gradWeight', 'gradBias'],
  },
  '/v1/conv2d/backward': {
    body: ['input', 'gradOutput', 'weight', 'scale', 'computeBias', 'stride', 'padding', 'dilation', 'groups'],
    results: ['gradInput', 'gradWeight', 'gradBias'],
  },
  '/v1/im2col': { body: ['input', ...WINDOW_PARAMS], results: ['columns'] },
  '/v1/col2im': { body: ['columns', 'outputSize', ...WINDOW_PARAMS], results: ['output'] },
};

const tensorsOf = (c: GoldenCase): GoldenTensor[] => [
  ...TENSOR_FIELDS.flatMap((field) => (c.request[field] === undefined ? [] : [c.request[field]])),
  ...Object.values(c.response),
];

/** The first tensor of a request, whose rank says whether the case is batched. */
const leadTensor = (r: GoldenRequest): GoldenTensor => {
  const lead = r.input ?? r.gradOutput ?? r.columns;
  assert.ok(lead !== undefined, 'a request has input, gradOutput or columns');
  return lead;
};

const isUnbatched = (r: GoldenRequest): boolean => leadTensor(r).shape.length === (r.columns ? 2 : 3);

test('there is one golden file for every route, and no other', () => {
  const found = allGoldenFiles().map((file) => file.route);
  assert.deepEqual([...found].sort(), [...GOLDEN_ROUTES].sort());
});

for (const route of GOLDEN_ROUTES) {
  describe(`golden fixtures of ${route}`, () => {
    const file = loadGolden(route);
    const isConv = !route.includes('col');

    test('come from the generator, with both dtypes covered', () => {
      assert.equal(file.generator, 'scripts/gen_golden.py');
      assert.match(file.torch, /^\d+\.\d+/);
      for (const dtype of DTYPES) {
        assert.ok(file.cases.filter((c) => c.dtype === dtype).length >= 8, `${goldenFileName(route)}: ${dtype} cases`);
      }
      const names = file.cases.map((c) => `${c.name} [${c.dtype}]`);
      assert.equal(new Set(names).size, names.length, 'case names are unique per dtype');
    });

    test('hold well-formed bodies and answers of the route', () => {
      const { body, results } = FIELDS[route];
      for (const c of file.cases) {
        for (const key of Object.keys(c.request)) assert.ok(body.includes(key), `${c.name}: body field ${key}`);
        for (const key of Object.keys(c.response)) assert.ok(results.includes(key), `${c.name}: result ${key}`);
        for (const tensor of tensorsOf(c)) {
          assert.equal(tensor.dtype, c.dtype, `${c.name}: every tensor has the case's dtype`);
          assert.ok(
            tensor.shape.every((d) => Number.isInteger(d) && d >= 1),
            `${c.name}: shape ${tensor.shape}`,
          );
          assert.equal(
            tensor.data.length,
            tensor.shape.reduce((a, b) => a * b, 1),
            `${c.name}: data length`,
          );
          assert.ok(tensor.data.every(Number.isFinite), `${c.name}: finite data`);
        }
        if (c.dtype === 'float32') {
          // Inputs are exact float32 values, so the float64 reference is the exact answer for them.
          for (const field of TENSOR_FIELDS) {
            const tensor = c.request[field];
            if (tensor)
              assert.ok(
                tensor.data.every((x) => Math.fround(x) === x),
                `${c.name}: ${field} is float32`,
              );
          }
          if (c.request.scale !== undefined) assert.equal(Math.fround(c.request.scale), c.request.scale);
        }
        if (body.includes('computeBias')) {
          const bias = computeBiasOf(c.request);
          assert.equal('gradBias' in c.response, bias, `${c.name}: gradBias answered iff computeBias`);
          if (!bias) assert.equal(c.request.gradBias, undefined, `${c.name}: no gradBias to accumulate`);
        }
        if (route === '/v1/conv2d/grad-input') assert.ok(c.request.inputShape, `${c.name}: inputShape`);
        if (route.endsWith('grad-parameters')) {
          assert.ok(c.request.kernelSize !== undefined || c.request.gradWeight !== undefined, c.name);
        }
      }
    });

    test('cover the cases the generator promises, in each dtype', () => {
      for (const dtype of DTYPES) {
        const cases = file.cases.filter((c) => c.dtype === dtype);
        const requests = cases.map((c) => c.request);
        const some = (what: string, ok: (r: GoldenRequest) => boolean) =>
          assert.ok(requests.some(ok), `${route} [${dtype}] has a case with ${what}`);
        const kernel = (r: GoldenRequest): readonly number[] => {
          if (r.weight) return r.weight.shape.slice(2);
          if (r.gradWeight) return r.gradWeight.shape.slice(2);
          return pair(r.kernelSize, 0);
        };
        const stride = (r: GoldenRequest) => pair(r.stride, 1);

        some('an unbatched input', isUnbatched);
        some('a batch of 3', (r) => !isUnbatched(r) && leadTensor(r).shape[0] === 3);
        some('a non-square kernel', (r) => kernel(r)[0] !== kernel(r)[1]);
        some('a non-square stride', (r) => stride(r)[0] !== stride(r)[1]);
        some('non-zero padding', (r) => pair(r.padding, 0).some((p) => p > 0));
        some('dilation', (r) => pair(r.dilation, 1).some((d) => d > 1));
        some('a 1x1 kernel and stride 1', (r) => kernel(r).every((k) => k === 1) && stride(r).every((s) => s === 1));
        some('a stride larger than the kernel', (r) => stride(r).every((s, i) => s > kernel(r)[i]));
        some('a pair given as one integer', (r) => typeof r.stride === 'number' || typeof r.padding === 'number');
        some('a pair given as [h, w]', (r) => Array.isArray(r.stride) || Array.isArray(r.padding));
        some('every param defaulted', (r) => [...CONV_PARAMS, 'stride'].every((k) => !(k in r)));
        if (!isConv) continue;

        some('groups 2', (r) => r.groups === 2);
        some('groups 3', (r) => r.groups === 3);
        if (route.endsWith('forward')) {
          some('no bias', (r) => r.bias === undefined);
          some('a bias', (r) => r.bias !== undefined);
        }
        if (route.startsWith('/v1/conv-transpose2d')) {
          some('outputPadding > 0', (r) => convParams(r).outputPadding.some((a) => a > 0));
          some('outputPadding >= stride (below the dilation)', (r) => {
            const { outputPadding, stride: s, dilation } = convParams(r);
            return outputPadding.some((a, i) => a >= s[i] && a < dilation[i]);
          });
        }
        if (route === '/v1/conv-transpose2d/grad-input') {
          some('inputShape given', (r) => r.inputShape !== undefined);
          some('inputShape derived', (r) => r.inputShape === undefined);
        }
        if (route.endsWith('grad-parameters') || route.endsWith('backward')) {
          some('scale != 1', (r) => r.scale !== undefined && r.scale !== 1);
          some('scale defaulted', (r) => r.scale === undefined);
          some('computeBias false', (r) => r.computeBias === false);
          some('computeBias defaulted', (r) => r.computeBias === undefined);
        }
        if (route.endsWith('grad-parameters')) {
          some('accumulation into a non-zero gradWeight', (r) => r.gradWeight?.data.some((x) => x !== 0) ?? false);
          some('accumulation into a non-zero gradBias', (r) => r.gradBias?.data.some((x) => x !== 0) ?? false);
          some('kernelSize only', (r) => r.kernelSize !== undefined && r.gradWeight === undefined);
          some('kernelSize taken from gradWeight', (r) => r.kernelSize === undefined && r.gradWeight !== undefined);
          some('kernelSize and gradWeight both', (r) => r.kernelSize !== undefined && r.gradWeight !== undefined);
        }
      }
    });
  });
}
