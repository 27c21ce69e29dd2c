/**
 * Every PyTorch golden case, run the way a route runs it minus HTTP: the validation module
 * plans the request from shapes and params alone, then the worker's task dispatcher computes it
 * from typed arrays. Each result must have the planned shape, the request's dtype, and the
 * reference values within the dtype's tolerance.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { columns, conv2d, convTranspose2d } from '../../src/ops/index.js';
import type { Limits, Shape } from '../../src/ops/types.js';
import type { ColumnsGeometry, ConvGeometry } from '../../workers/geometry.js';
import { type OpName, runTask } from '../../workers/tasks.js';
import {
  allGoldenFiles,
  assertClose,
  assertDtype,
  type GoldenRequest,
  type GoldenRoute,
  type GoldenTensor,
  goldenOp,
  type ResultName,
  toTypedArray,
} from './fixtures.js';
import { computeBiasOf, convParams, pair, scaleOf, windowParams } from './request.js';

// Far above any golden case: these tests are about values, the limits have their own tests.
const LIMITS: Limits = { maxElements: 1 << 24, maxMacs: 2 ** 36 };

const TENSOR_FIELDS = ['input', 'weight', 'bias', 'gradOutput', 'gradWeight', 'gradBias', 'columns'] as const;

function shapeOf(request: GoldenRequest, field: (typeof TENSOR_FIELDS)[number]): Shape {
  const tensor = request[field];
  if (tensor === undefined) throw new Error(`the golden request has no ${field}`);
  return tensor.shape;
}

/** Optional fields are left out rather than set to undefined, as a parsed body would be. */
const optionalShape = <K extends string>(key: K, tensor: GoldenTensor | undefined) =>
  (tensor === undefined ? {} : { [key]: tensor.shape }) as Partial<Record<K, Shape>>;

interface PlanLike {
  readonly geometry: ConvGeometry | ColumnsGeometry;
  readonly shapes: Readonly<Record<string, Shape>>;
}

function gradParametersShapes(r: GoldenRequest) {
  return {
    input: shapeOf(r, 'input'),
    gradOutput: shapeOf(r, 'gradOutput'),
    ...(r.kernelSize === undefined ? {} : { kernelSize: pair(r.kernelSize, 1) }),
    ...optionalShape('gradWeight', r.gradWeight),
    ...optionalShape('gradBias', r.gradBias),
    computeBias: computeBiasOf(r),
  };
}

const planners: Record<GoldenRoute, (r: GoldenRequest) => PlanLike> = {
  '/v1/conv-transpose2d/forward': (r) =>
    convTranspose2d.forward(
      { input: shapeOf(r, 'input'), weight: shapeOf(r, 'weight'), ...optionalShape('bias', r.bias) },
      convParams(r),
      LIMITS,
    ),
  '/v1/conv-transpose2d/grad-input': (r) =>
    convTranspose2d.gradInput(
      {
        gradOutput: shapeOf(r, 'gradOutput'),
        weight: shapeOf(r, 'weight'),
        ...(r.inputShape === undefined ? {} : { inputShape: r.inputShape }),
      },
      convParams(r),
      LIMITS,
    ),
  '/v1/conv-transpose2d/grad-parameters': (r) =>
    convTranspose2d.gradParameters(gradParametersShapes(r), convParams(r), LIMITS),
  '/v1/conv-transpose2d/backward': (r) =>
    convTranspose2d.backward(
      {
        input: shapeOf(r, 'input'),
        gradOutput: shapeOf(r, 'gradOutput'),
        weight: shapeOf(r, 'weight'),
        computeBias: computeBiasOf(r),
      },
      convParams(r),
      LIMITS,
    ),
  '/v1/conv2d/forward': (r) =>
    conv2d.forward(
      { input: shapeOf(r, 'input'), weight: shapeOf(r, 'weight'), ...optionalShape('bias', r.bias) },
      convParams(r),
      LIMITS,
    ),
  '/v1/conv2d/grad-input': (r) => {
    if (r.inputShape === undefined) throw new Error('conv2d grad-input requests carry inputShape');
    return conv2d.gradInput(
      { gradOutput: shapeOf(r, 'gradOutput'), weight: shapeOf(r, 'weight'), inputShape: r.inputShape },
      convParams(r),
      LIMITS,
    );
  },
  '/v1/conv2d/grad-parameters': (r) => conv2d.gradParameters(gradParametersShapes(r), convParams(r), LIMITS),
  '/v1/conv2d/backward': (r) =>
    conv2d.backward(
      {
        input: shapeOf(r, 'input'),
        gradOutput: shapeOf(r, 'gradOutput'),
        weight: shapeOf(r, 'weight'),
        computeBias: computeBiasOf(r),
      },
      convParams(r),
      LIMITS,
    ),
  '/v1/im2col': (r) => columns.im2col({ input: shapeOf(r, 'input') }, windowParams(r), LIMITS),
  '/v1/col2im': (r) => {
    if (r.outputSize === undefined) throw new Error('col2im requests carry outputSize');
    return columns.col2im(
      { columns: shapeOf(r, 'columns'), outputSize: pair(r.outputSize, 1) },
      windowParams(r),
      LIMITS,
    );
  },
};

for (const file of allGoldenFiles()) {
  describe(`golden ${file.route} (torch ${file.torch})`, () => {
    for (const golden of file.cases) {
      test(`${golden.name} [${golden.dtype}]`, async () => {
        const { request, response, dtype } = golden;
        const plan = planners[file.route](request);

        // The plan lists exactly the results the route answers with (no gradBias without computeBias).
        assert.deepEqual(Object.keys(plan.shapes).sort(), Object.keys(response).sort(), 'planned results');

        const tensors = Object.fromEntries(
          TENSOR_FIELDS.flatMap((field) => {
            const tensor = request[field];
            return tensor === undefined ? [] : [[field, toTypedArray(tensor)]];
          }),
        );
        const results = await runTask({
          op: goldenOp(file.route) as OpName,
          geometry: plan.geometry,
          dtype,
          tensors,
          scale: scaleOf(request),
          computeBias: computeBiasOf(request),
        });

        for (const [name, want] of Object.entries(response) as [ResultName, GoldenTensor][]) {
          assert.deepEqual([...plan.shapes[name]], want.shape, `${name} shape`);
          const got = results[name];
          assert.ok(got !== undefined, `runTask returned no ${name}`);
          assertDtype(got, dtype, name);
          assertClose(got, want, dtype, name);
        }
      });
    }
  });
}
