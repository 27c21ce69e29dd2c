import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { backward, forward, gradInput, gradParameters } from '../../../src/ops/conv2d.js';
import type { ConvParams } from '../../../src/ops/types.js';
import {
  assertOpError,
  conv,
  corrupted,
  garbageConv,
  garbageShape,
  LIMITS,
  MAX_INT,
  NO_LIMITS,
  planOrOpError,
  someLimits,
} from './op-test-helpers.js';

/** docs/semantics.md: Ho = floor((H + 2*pH - dilH*(kH-1) - 1) / sH) + 1, written out independently of the module. */
const outSize = (h: number, k: number, s: number, p: number, d: number): number =>
  Math.floor((h + 2 * p - d * (k - 1) - 1) / s) + 1;

// Checked against torch.nn.functional.conv2d (PyTorch 1.13): input [2,4,9,11], weight [6,2,3,2],
// stride (2,3), padding (1,0), dilation (2,3), groups 2 -> output [2, 6, 4, 3].
const grouped = {
  input: [2, 4, 9, 11],
  weight: [6, 2, 3, 2],
  params: conv({ stride: [2, 3], padding: [1, 0], dilation: [2, 3], groups: 2 }),
  output: [2, 6, 4, 3],
};

describe('conv2d forward', () => {
  it("gives PyTorch's output shape and a geometry seen from input to output (groups, non-square everything)", () => {
    const plan = forward({ input: grouped.input, weight: grouped.weight, bias: [6] }, grouped.params, LIMITS);
    assert.deepEqual(plan.shapes, { output: grouped.output });
    assert.deepEqual(plan.geometry, {
      kind: 'conv2d',
      batch: 2,
      groups: 2,
      inChannels: 4,
      outChannels: 6,
      inH: 9,
      inW: 11,
      outH: outSize(9, 3, 2, 1, 2),
      outW: outSize(11, 2, 3, 0, 3),
      aH: 0,
      aW: 0,
      kH: 3,
      kW: 2,
      sH: 2,
      sW: 3,
      pH: 1,
      pW: 0,
      dH: 2,
      dW: 3,
    });
  });

  it("sizes one group's column buffer on the output grid and counts N*Cout*(Cin/g)*kH*kW*Ho*Wo multiply-adds", () => {
    const plan = forward({ input: grouped.input, weight: grouped.weight }, grouped.params, LIMITS);
    assert.equal(plan.scratchElements, (4 / 2) * 3 * 2 * 4 * 3);
    assert.equal(plan.macs, 2 * 6 * (4 / 2) * 3 * 2 * 4 * 3);
  });

  it('keeps an unbatched request unbatched', () => {
    // PyTorch: input [4,9,11], weight [5,4,4,3], stride (1,2), padding (2,1), dilation (1,2) -> [5, 10, 5]
    const plan = forward(
      { input: [4, 9, 11], weight: [5, 4, 4, 3] },
      conv({ stride: [1, 2], padding: [2, 1], dilation: [1, 2] }),
      LIMITS,
    );
    assert.deepEqual(plan.shapes, { output: [5, 10, 5] });
    assert.equal(plan.batched, false);
    assert.equal(plan.geometry.batch, 1);
  });

  it('plans a depthwise convolution (groups = channels)', () => {
    // PyTorch: input [1,6,3,20], weight [6,1,2,5], stride (3,1), padding (2,2), dilation (1,4), groups 6 -> [1, 6, 2, 8]
    const p = conv({ stride: [3, 1], padding: [2, 2], dilation: [1, 4], groups: 6 });
    assert.deepEqual(forward({ input: [1, 6, 3, 20], weight: [6, 1, 2, 5] }, p, LIMITS).shapes, {
      output: [1, 6, 2, 8],
    });
  });
});

describe('conv2d grad-input', () => {
  it('takes the input size from inputShape, since several input sizes give one output size', () => {
    const t = { gradOutput: [1, 1, 4, 4], weight: [1, 1, 3, 3] };
    const p = conv({ stride: [2, 2] });
    assert.deepEqual(gradInput({ ...t, inputShape: [1, 1, 9, 9] }, p, LIMITS).shapes, { gradInput: [1, 1, 9, 9] });
    assert.deepEqual(gradInput({ ...t, inputShape: [1, 1, 10, 9] }, p, LIMITS).shapes, { gradInput: [1, 1, 10, 9] });
  });

  it('uses the geometry and cost of forward', () => {
    const plan = gradInput(
      { gradOutput: grouped.output, weight: grouped.weight, inputShape: grouped.input },
      grouped.params,
      LIMITS,
    );
    const fwd = forward({ input: grouped.input, weight: grouped.weight }, grouped.params, LIMITS);
    assert.deepEqual(plan.geometry, fwd.geometry);
    assert.equal(plan.macs, fwd.macs);
  });
});

describe('conv2d grad-parameters and backward', () => {
  it("gives gradWeight the weight's shape [Cout, Cin/groups, kH, kW] and gradBias [Cout], the latter only on request", () => {
    const t = { input: grouped.input, gradOutput: grouped.output };
    assert.deepEqual(gradParameters({ ...t, kernelSize: [3, 2], computeBias: true }, grouped.params, LIMITS).shapes, {
      gradWeight: grouped.weight,
      gradBias: [6],
    });
    assert.deepEqual(
      gradParameters({ ...t, gradWeight: grouped.weight, computeBias: false }, grouped.params, LIMITS).shapes,
      { gradWeight: grouped.weight },
    );
  });

  it('backward returns gradients shaped like input and weight and costs two passes', () => {
    const t = { input: grouped.input, gradOutput: grouped.output, weight: grouped.weight };
    const plan = backward({ ...t, computeBias: true }, grouped.params, LIMITS);
    assert.deepEqual(plan.shapes, { gradInput: grouped.input, gradWeight: grouped.weight, gradBias: [6] });
    assert.equal(plan.macs, 2 * forward(t, grouped.params, LIMITS).macs);
  });
});

describe('conv2d rejects malformed requests (400)', () => {
  it('rejects an outputPadding other than 0', () => {
    assertOpError(
      () => forward({ input: [1, 1, 5, 5], weight: [1, 1, 3, 3] }, conv({ outputPadding: [1, 0] }), LIMITS),
      { status: 400, path: 'outputPadding[0]', message: 'conv2d takes no outputPadding, got outputPadding[0] = 1' },
    );
  });

  it('grad-input requires inputShape', () => {
    const t = { gradOutput: [1, 1, 3, 3], weight: [1, 1, 3, 3] } as unknown as Parameters<typeof gradInput>[0];
    assertOpError(() => gradInput(t, conv(), LIMITS), {
      status: 400,
      path: 'inputShape',
      message: 'inputShape is required: several input sizes give the same conv2d output size',
    });
  });

  it('names a bad inputShape dimension by its path in inputShape', () => {
    assertOpError(
      () => gradInput({ gradOutput: [1, 1, 3, 3], weight: [1, 1, 3, 3], inputShape: [1, 1, -5, 5] }, conv(), LIMITS),
      { status: 400, path: 'inputShape[2]', message: 'inputShape[2] must be an integer from 1 to 2147483647, got -5' },
    );
  });

  it('rejects an input of rank 2', () => {
    assertOpError(() => forward({ input: [5, 5], weight: [1, 1, 3, 3] }, conv(), LIMITS), {
      status: 400,
      path: 'input.shape',
      message: 'input.shape must have 3 or 4 dimensions ([N, C, H, W] or unbatched [C, H, W]), got 2',
    });
  });
});

describe('conv2d rejects inconsistent requests (422)', () => {
  it('input channels must equal weight.shape[1] * groups', () => {
    assertOpError(() => forward({ input: [1, 3, 5, 5], weight: [4, 2, 3, 3] }, conv({ groups: 2 }), LIMITS), {
      status: 422,
      path: 'input.shape[1]',
      message: 'input.shape[1] (3) must equal weight.shape[1] * groups (2 * 2 = 4)',
    });
  });

  it('groups must divide the output channels', () => {
    assertOpError(() => forward({ input: [1, 4, 5, 5], weight: [3, 2, 3, 3] }, conv({ groups: 2 }), LIMITS), {
      status: 422,
      path: 'groups',
      message: 'groups (2) must divide the output channels, weight.shape[0] (3)',
    });
  });

  it('the output must be at least 1 pixel: the size is floored, not truncated towards zero', () => {
    // (2 - 2 - 1) / 2 = -0.5 truncates to 0 (size 1) but floors to -1 (size 0); PyTorch rejects it.
    assertOpError(() => forward({ input: [1, 1, 2, 2], weight: [1, 1, 3, 3] }, conv({ stride: [2, 2] }), LIMITS), {
      status: 422,
      path: 'input.shape[2]',
      message: 'input.shape[2] (2) gives an output height below 1: floor((2 + 2 * 0 - 1 * (3 - 1) - 1) / 2) + 1 = 0',
    });
  });

  it('bias length must equal Cout', () => {
    assertOpError(() => forward({ input: [1, 1, 5, 5], weight: [4, 1, 3, 3], bias: [3] }, conv(), LIMITS), {
      status: 422,
      path: 'bias.shape[0]',
      message: 'bias.shape[0] (3) must equal the output channels, weight.shape[0] (4)',
    });
  });

  it('gradOutput must have the batch size and channels the request implies', () => {
    const t = { input: [2, 1, 5, 5], weight: [4, 1, 3, 3], computeBias: true };
    assertOpError(() => backward({ ...t, gradOutput: [1, 4, 3, 3] }, conv(), LIMITS), {
      status: 422,
      path: 'gradOutput.shape[0]',
      message: 'gradOutput.shape[0] (1) must equal input.shape[0] (2)',
    });
    assertOpError(() => backward({ ...t, gradOutput: [2, 3, 3, 3] }, conv(), LIMITS), {
      status: 422,
      path: 'gradOutput.shape[1]',
      message: 'gradOutput.shape[1] (3) must equal the output channels, weight.shape[0] (4)',
    });
  });

  it('grad-input: inputShape must be consistent with gradOutput and weight', () => {
    const t = { gradOutput: [1, 4, 3, 3], weight: [4, 1, 3, 3] };
    assertOpError(() => gradInput({ ...t, inputShape: [1, 2, 5, 5] }, conv(), LIMITS), {
      status: 422,
      path: 'inputShape[1]',
      message: 'inputShape[1] (2) must equal weight.shape[1] * groups (1 * 1 = 1)',
    });
    assertOpError(() => gradInput({ ...t, inputShape: [1, 1, 6, 5] }, conv(), LIMITS), {
      status: 422,
      path: 'gradOutput.shape[2]',
      message:
        'gradOutput.shape[2] (3) must equal the output height that inputShape[2] and the params give: floor((6 + 2 * 0 - 1 * (3 - 1) - 1) / 1) + 1 = 4',
    });
  });

  it('grad-parameters: gradWeight must be [Cout, Cin/groups, kH, kW] and agree with kernelSize', () => {
    const t = { input: [1, 4, 5, 5], gradOutput: [1, 6, 3, 3], computeBias: true };
    const p = conv({ groups: 2 });
    assertOpError(() => gradParameters({ ...t, gradWeight: [4, 2, 3, 3] }, p, LIMITS), {
      status: 422,
      path: 'gradWeight.shape[0]',
      message: 'gradWeight.shape[0] (4) must equal gradOutput.shape[1] (6)',
    });
    assertOpError(() => gradParameters({ ...t, gradWeight: [6, 4, 3, 3] }, p, LIMITS), {
      status: 422,
      path: 'gradWeight.shape[1]',
      message: 'gradWeight.shape[1] (4) must equal input.shape[1] (4) / groups (2) = 2',
    });
    assertOpError(() => gradParameters({ ...t, kernelSize: [3, 3], gradWeight: [6, 2, 3, 2] }, p, LIMITS), {
      status: 422,
      path: 'gradWeight.shape[3]',
      message: 'gradWeight.shape[3] (2) must equal kernelSize[1] (3)',
    });
  });

  it('grad-parameters: groups must divide the input channels', () => {
    assertOpError(
      () =>
        gradParameters(
          { input: [1, 3, 5, 5], gradOutput: [1, 6, 3, 3], kernelSize: [3, 3], computeBias: true },
          conv({ groups: 2 }),
          LIMITS,
        ),
      { status: 422, path: 'groups', message: 'groups (2) must divide the input channels, input.shape[1] (3)' },
    );
  });
});

describe('conv2d refuses what is too large (413)', () => {
  it('an output dimension past 2^31-1 is a 413 on output', () => {
    assertOpError(
      () => forward({ input: [1, 1, MAX_INT, 1], weight: [1, 1, 1, 1] }, conv({ padding: [MAX_INT, 0] }), NO_LIMITS),
      {
        status: 413,
        path: 'output',
        message:
          `output would have height floor((${MAX_INT} + 2 * ${MAX_INT} - 1 * (1 - 1) - 1) / 1) + 1 = ${3 * MAX_INT}, ` +
          `more than the largest dimension, ${MAX_INT}`,
      },
    );
  });

  it("the column buffer, one group's Cin/g*kH*kW rows over the output grid, counts against maxElements", () => {
    // input 16, weight 9 and output 36 elements fit; the buffer (1 x 3 x 3) x (6 x 6) = 324 does not.
    assertOpError(
      () =>
        forward({ input: [1, 1, 4, 4], weight: [1, 1, 3, 3] }, conv({ padding: [2, 2] }), {
          maxElements: 100,
          maxMacs: 1e9,
        }),
      {
        status: 413,
        path: 'columns',
        message: 'the column buffer has 324 elements (1 x 3 x 3 x 6 x 6), more than the limit of 100',
      },
    );
  });

  it('a cost over maxMacs is a 413 with an empty path', () => {
    assertOpError(
      () => forward({ input: [1, 2, 5, 5], weight: [3, 2, 3, 3] }, conv(), { maxElements: 1e6, maxMacs: 100 }),
      {
        status: 413,
        path: '',
        message: 'the request costs 486 multiply-adds (1 x 3 x 2 x 3 x 3 x 3 x 3), more than the limit of 100',
      },
    );
  });
});

describe('conv2d properties', () => {
  /** Per axis: kernel, stride, padding, dilation, and an input size the dilated kernel fits into. */
  const axis = fc
    .record({
      extra: fc.nat({ max: 8 }),
      k: fc.integer({ min: 1, max: 5 }),
      s: fc.integer({ min: 1, max: 4 }),
      p: fc.nat({ max: 4 }),
      d: fc.integer({ min: 1, max: 3 }),
    })
    .map((x) => ({ ...x, size: Math.max(1, x.d * (x.k - 1) + 1 - 2 * x.p) + x.extra }));
  const validRequest = fc
    .record({
      batch: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }),
      cinPerGroup: fc.integer({ min: 1, max: 3 }),
      coutPerGroup: fc.integer({ min: 1, max: 3 }),
      groups: fc.integer({ min: 1, max: 3 }),
      h: axis,
      w: axis,
    })
    .map((r) => {
      const cout = r.coutPerGroup * r.groups;
      const lead = r.batch === undefined ? [] : [r.batch];
      const params: ConvParams = {
        stride: [r.h.s, r.w.s],
        padding: [r.h.p, r.w.p],
        outputPadding: [0, 0],
        dilation: [r.h.d, r.w.d],
        groups: r.groups,
      };
      return {
        input: [...lead, r.cinPerGroup * r.groups, r.h.size, r.w.size],
        weight: [cout, r.cinPerGroup, r.h.k, r.w.k],
        bias: [cout],
        output: [
          ...lead,
          cout,
          outSize(r.h.size, r.h.k, r.h.s, r.h.p, r.h.d),
          outSize(r.w.size, r.w.k, r.w.s, r.w.p, r.w.d),
        ],
        kernelSize: [r.h.k, r.w.k] as [number, number],
        params,
      };
    });

  it('plans every valid request, every result dimension >= 1 and equal to the formula, and each pass agrees with forward', () => {
    fc.assert(
      fc.property(validRequest, ({ input, weight, bias, output, kernelSize, params: p }) => {
        const fwd = forward({ input, weight, bias }, p, NO_LIMITS);
        assert.deepEqual(fwd.shapes.output, output);
        assert.ok(output.every((d) => Number.isInteger(d) && d >= 1));
        assert.deepEqual(
          gradInput({ gradOutput: output, weight, inputShape: input }, p, NO_LIMITS).geometry,
          fwd.geometry,
        );
        assert.deepEqual(
          gradParameters({ input, gradOutput: output, kernelSize, computeBias: true }, p, NO_LIMITS).shapes,
          { gradWeight: weight, gradBias: bias },
        );
        assert.equal(
          backward({ input, gradOutput: output, weight, computeBias: false }, p, NO_LIMITS).macs,
          2 * fwd.macs,
        );
      }),
      { seed: 42, numRuns: 300 },
    );
  });

  it('answers garbage integers with a plan or an OpError, never another error', () => {
    fc.assert(
      fc.property(
        garbageShape,
        garbageShape,
        garbageShape,
        garbageConv,
        someLimits,
        fc.boolean(),
        (a, b, c, p, limits, bias) => {
          planOrOpError(() => forward({ input: a, weight: b, bias: bias ? c : undefined }, p, limits));
          planOrOpError(() => gradInput({ gradOutput: a, weight: b, inputShape: c }, p, limits));
          planOrOpError(() => gradParameters({ input: a, gradOutput: c, gradWeight: b, computeBias: bias }, p, limits));
          planOrOpError(() => backward({ input: a, gradOutput: c, weight: b, computeBias: bias }, p, limits));
        },
      ),
      { seed: 42, numRuns: 1000 },
    );
  });

  it('answers valid requests with garbage in a few places with a plan or an OpError, never another error', () => {
    fc.assert(
      fc.property(
        corrupted(validRequest),
        someLimits,
        ({ input, weight, bias, output, kernelSize, params: p }, limits) => {
          planOrOpError(() => forward({ input, weight, bias }, p, limits));
          planOrOpError(() => gradInput({ gradOutput: output, weight, inputShape: input }, p, limits));
          planOrOpError(() =>
            gradParameters(
              { input, gradOutput: output, kernelSize, gradWeight: weight, gradBias: bias, computeBias: true },
              p,
              limits,
            ),
          );
          planOrOpError(() => backward({ input, gradOutput: output, weight, computeBias: true }, p, limits));
        },
      ),
      { seed: 42, numRuns: 1000 },
    );
  });
});
