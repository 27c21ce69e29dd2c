import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { ConvGeometry, Dtype, FloatArray } from '../../workers/geometry.js';
import { type OpName, runTask, type Task } from '../../workers/tasks.js';
import { columnsGeometries, dataSeed, dtypes, seeded } from './helpers/arbitraries.js';
import { type ConvCase, convCases, explicitCases, outputPaddingAtLeastStride } from './helpers/conv-cases.js';
import { columnsLength, imageLength, inputLength, outputLength, weightLength } from './helpers/geometry.js';
import { assertClose, random, tolerance } from './helpers/tensors.js';
import { accumulated, references } from './reference/conv.js';
import { foldReference, unfoldReference } from './reference/unfold.js';

const kinds = ['conv-transpose2d', 'conv2d'] as const;

function assertDtype(result: FloatArray | undefined, dtype: Dtype, length: number, what: string): FloatArray {
  assert.ok(result !== undefined, `${what} missing`);
  assert.ok(result instanceof (dtype === 'float32' ? Float32Array : Float64Array), `${what} is not ${dtype}`);
  assert.equal(result.length, length, `${what} length`);
  return result;
}

const keys = (result: object): string[] => Object.keys(result).sort();

function checkForward({ g, dtype, data, withBias }: ConvCase): void {
  const bias = withBias ? data.bias : null;
  const tensors =
    bias === null ? { input: data.input, weight: data.weight } : { input: data.input, weight: data.weight, bias };
  const result = runTask({ op: `${g.kind}/forward`, geometry: g, dtype, tensors });
  assert.deepEqual(keys(result), ['output']);
  const output = assertDtype(result.output, dtype, outputLength(g), 'output');
  assertClose(output, references.forward(g, data.input, data.weight, bias), tolerance[dtype], 'output');
}

function checkGradInput({ g, dtype, data }: ConvCase): void {
  const result = runTask({
    op: `${g.kind}/grad-input`,
    geometry: g,
    dtype,
    tensors: { gradOutput: data.gradOutput, weight: data.weight },
  });
  assert.deepEqual(keys(result), ['gradInput']);
  const gradInput = assertDtype(result.gradInput, dtype, inputLength(g), 'gradInput');
  assertClose(gradInput, references.gradInput(g, data.gradOutput, data.weight), tolerance[dtype], 'gradInput');
}

function checkGradParameters(
  c: ConvCase,
  accumulate: boolean,
  computeBias: boolean | undefined,
  scale: number | undefined,
): void {
  const { g, dtype, data } = c;
  const given = { gradWeight: data.gradWeight.slice(), gradBias: data.gradBias.slice() };
  const task: Task = {
    op: `${g.kind}/grad-parameters`,
    geometry: g,
    dtype,
    tensors: accumulate
      ? { input: data.input, gradOutput: data.gradOutput, ...given }
      : { input: data.input, gradOutput: data.gradOutput },
    ...(scale === undefined ? {} : { scale }),
    ...(computeBias === undefined ? {} : { computeBias }),
  };
  const result = runTask(task);
  const withBias = computeBias ?? true;
  assert.deepEqual(keys(result), withBias ? ['gradBias', 'gradWeight'] : ['gradWeight']);
  const factor = scale ?? 1;
  const gradWeight = assertDtype(result.gradWeight, dtype, weightLength(g), 'gradWeight');
  const weightStart = accumulate ? data.gradWeight : new Float64Array(weightLength(g));
  assertClose(
    gradWeight,
    accumulated(weightStart, factor, references.gradWeight(g, data.input, data.gradOutput)),
    tolerance[dtype],
    'gradWeight',
  );
  if (accumulate) assert.equal(gradWeight, given.gradWeight, 'gradWeight is accumulated in place');
  if (withBias) {
    const gradBias = assertDtype(result.gradBias, dtype, g.outChannels, 'gradBias');
    const biasStart = accumulate ? data.gradBias : new Float64Array(g.outChannels);
    assertClose(
      gradBias,
      accumulated(biasStart, factor, references.gradBias(g, data.gradOutput)),
      tolerance[dtype],
      'gradBias',
    );
    if (accumulate) assert.equal(gradBias, given.gradBias, 'gradBias is accumulated in place');
  } else {
    assertClose(given.gradBias, data.gradBias, 0, 'gradBias left alone');
  }
}

function checkBackward({ g, dtype, data, scale }: ConvCase, computeBias: boolean): void {
  const result = runTask({
    op: `${g.kind}/backward`,
    geometry: g,
    dtype,
    // Stray accumulation buffers must not be added into: backward starts from zero.
    tensors: {
      input: data.input,
      weight: data.weight,
      gradOutput: data.gradOutput,
      gradWeight: data.gradWeight,
      gradBias: data.gradBias,
    },
    scale,
    computeBias,
  });
  assert.deepEqual(keys(result), computeBias ? ['gradBias', 'gradInput', 'gradWeight'] : ['gradInput', 'gradWeight']);
  const gradInput = assertDtype(result.gradInput, dtype, inputLength(g), 'gradInput');
  // scale applies to the parameter gradients only.
  assertClose(gradInput, references.gradInput(g, data.gradOutput, data.weight), tolerance[dtype], 'gradInput');
  const gradWeight = assertDtype(result.gradWeight, dtype, weightLength(g), 'gradWeight');
  assertClose(
    gradWeight,
    references.gradWeight(g, data.input, data.gradOutput).map((v) => scale * v),
    tolerance[dtype],
    'gradWeight',
  );
  if (computeBias) {
    const gradBias = assertDtype(result.gradBias, dtype, g.outChannels, 'gradBias');
    assertClose(
      gradBias,
      references.gradBias(g, data.gradOutput).map((v) => scale * v),
      tolerance[dtype],
      'gradBias',
    );
  }
}

describe('runTask', () => {
  for (const kind of kinds) {
    it(`${kind}/forward returns { output } in the task's dtype, equal to the direct loop`, () => {
      fc.assert(fc.property(convCases(kind), checkForward), seeded(60));
    });

    it(`${kind}/grad-input returns { gradInput }, equal to the direct loop`, () => {
      fc.assert(fc.property(convCases(kind), checkGradInput), seeded(60));
    });

    it(`${kind}/grad-parameters accumulates scale * gradient into the given gradWeight / gradBias in place and returns them`, () => {
      fc.assert(
        fc.property(convCases(kind), fc.boolean(), (c, computeBias) =>
          checkGradParameters(c, true, computeBias, c.scale),
        ),
        seeded(60),
      );
    });

    it(`${kind}/grad-parameters starts from zero without them, with scale 1 and gradBias by default`, () => {
      fc.assert(
        fc.property(convCases(kind), (c) => checkGradParameters(c, false, undefined, undefined)),
        seeded(40),
      );
    });

    it(`${kind}/grad-parameters returns no gradBias, and leaves a given one alone, when computeBias is false`, () => {
      fc.assert(
        fc.property(convCases(kind), (c) => checkGradParameters(c, true, false, c.scale)),
        seeded(20),
      );
    });

    it(`${kind}/backward returns gradInput and gradWeight / gradBias started from zero, scale applying to the latter only`, () => {
      fc.assert(fc.property(convCases(kind), fc.boolean(), checkBackward), seeded(60));
    });
  }

  it('conv-transpose2d ops keep the input grid when outputPadding >= stride', () => {
    for (const c of explicitCases(outputPaddingAtLeastStride)) {
      checkForward(c);
      checkGradInput(c);
      checkGradParameters(c, true, true, c.scale);
      checkBackward(c, true);
    }
  });

  it('im2col returns { columns } equal to unfold by definition', () => {
    fc.assert(
      fc.property(columnsGeometries(false), dtypes, dataSeed, (g, dtype, seed) => {
        const input = random(dtype, imageLength(g), seed);
        const result = runTask({ op: 'im2col', geometry: g, dtype, tensors: { input } });
        assert.deepEqual(keys(result), ['columns']);
        assertClose(
          assertDtype(result.columns, dtype, columnsLength(g), 'columns'),
          unfoldReference(g, input),
          0,
          'columns',
        );
      }),
      seeded(60),
    );
  });

  it('col2im returns { output } equal to fold by definition', () => {
    fc.assert(
      fc.property(columnsGeometries(false), dtypes, dataSeed, (g, dtype, seed) => {
        const columns = random(dtype, columnsLength(g), seed);
        const result = runTask({ op: 'col2im', geometry: g, dtype, tensors: { columns } });
        assert.deepEqual(keys(result), ['output']);
        assertClose(
          assertDtype(result.output, dtype, imageLength(g), 'output'),
          foldReference(g, columns),
          tolerance[dtype],
          'output',
        );
      }),
      seeded(60),
    );
  });

  it('gives the same results whatever ran before it in the worker (its scratch is reused, never trusted)', () => {
    const cases = explicitCases(outputPaddingAtLeastStride);
    const first = cases.map(
      (c) =>
        runTask({
          op: `${c.g.kind}/forward`,
          geometry: c.g,
          dtype: c.dtype,
          tensors: { input: c.data.input, weight: c.data.weight },
        }).output,
    );
    const again = [...cases].reverse().map(
      (c) =>
        runTask({
          op: `${c.g.kind}/forward`,
          geometry: c.g,
          dtype: c.dtype,
          tensors: { input: c.data.input, weight: c.data.weight },
        }).output,
    );
    assert.deepEqual(first, again.reverse());
  });

  describe('rejects a task that disagrees with itself (a bug upstream, never a wrong answer)', () => {
    const [c] = explicitCases(outputPaddingAtLeastStride) as [ConvCase];
    const g: ConvGeometry = c.g;
    const run =
      (op: OpName, tensors: Task['tensors'], geometry: Task['geometry'] = g, dtype: Dtype = c.dtype) =>
      () =>
        runTask({ op, geometry, dtype, tensors });

    it('when a required tensor is missing', () => {
      assert.throws(run('conv-transpose2d/forward', { input: c.data.input }), /weight/);
    });

    it("when a tensor is not of the task's dtype", () => {
      assert.throws(
        run('conv-transpose2d/forward', { input: c.data.input, weight: c.data.weight }, g, 'float64'),
        /input/,
      );
    });

    it('when a tensor length does not match the geometry', () => {
      assert.throws(
        run('conv-transpose2d/forward', { input: c.data.input.subarray(1), weight: c.data.weight }),
        /input/,
      );
      assert.throws(
        run('conv-transpose2d/grad-parameters', {
          input: c.data.input,
          gradOutput: c.data.gradOutput,
          gradBias: c.data.bias.subarray(1),
        }),
        /gradBias/,
      );
    });

    it('when the geometry is of another kind', () => {
      assert.throws(run('conv2d/forward', { input: c.data.input, weight: c.data.weight }), /conv2d/);
      assert.throws(run('im2col', { input: c.data.input }), /columns geometry/);
    });
  });
});
