import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { backward, forward, gradInput, gradParameters } from '../../../src/ops/conv-transpose2d.js';
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

/** docs/semantics.md: Ho = (H-1)*sH - 2*pH + dilH*(kH-1) + aH + 1, written out independently of the module. */
const outSize = (h: number, k: number, s: number, p: number, d: number, a: number): number =>
  (h - 1) * s - 2 * p + d * (k - 1) + a + 1;

// Checked against torch.nn.functional.conv_transpose2d (PyTorch 1.13):
// input [2,4,5,7], weight [4,3,3,2], stride (2,3), padding (1,0), output_padding (1,2),
// dilation (2,3), groups 2 -> output [2, 6, 12, 24].
const grouped = {
  input: [2, 4, 5, 7],
  weight: [4, 3, 3, 2],
  params: conv({ stride: [2, 3], padding: [1, 0], outputPadding: [1, 2], dilation: [2, 3], groups: 2 }),
  output: [2, 6, 12, 24],
};

describe('conv-transpose2d forward', () => {
  it("gives PyTorch's output shape and a geometry seen from input to output (groups, non-square everything)", () => {
    const plan = forward({ input: grouped.input, weight: grouped.weight, bias: [6] }, grouped.params, LIMITS);
    assert.deepEqual(plan.shapes, { output: grouped.output });
    assert.equal(plan.batched, true);
    assert.deepEqual(plan.geometry, {
      kind: 'conv-transpose2d',
      batch: 2,
      groups: 2,
      inChannels: 4,
      outChannels: 6,
      inH: 5,
      inW: 7,
      outH: outSize(5, 3, 2, 1, 2, 1),
      outW: outSize(7, 2, 3, 0, 3, 2),
      aH: 1,
      aW: 2,
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

  it("sizes one group's column buffer on the input grid and counts N*Cin*(Cout/g)*kH*kW*H*W multiply-adds", () => {
    const plan = forward({ input: grouped.input, weight: grouped.weight }, grouped.params, LIMITS);
    assert.equal(plan.scratchElements, (6 / 2) * 3 * 2 * 5 * 7);
    assert.equal(plan.macs, 2 * 4 * (6 / 2) * 3 * 2 * 5 * 7);
  });

  it('accepts outputPadding >= stride when it is below the dilation, and keeps an unbatched request unbatched', () => {
    // PyTorch: input [4,5,7], weight [4,3,3,2], stride (1,2), padding (0,1), output_padding (2,3), dilation (3,4) -> [3,13,18]
    const p = conv({ stride: [1, 2], padding: [0, 1], outputPadding: [2, 3], dilation: [3, 4] });
    const plan = forward({ input: [4, 5, 7], weight: [4, 3, 3, 2] }, p, LIMITS);
    assert.deepEqual(plan.shapes, { output: [3, 13, 18] });
    assert.equal(plan.batched, false);
    assert.equal(plan.geometry.batch, 1);
  });
});

describe('conv-transpose2d grad-input', () => {
  it('derives the input shape from gradOutput and the params, outputPadding included', () => {
    const plan = gradInput({ gradOutput: grouped.output, weight: grouped.weight }, grouped.params, LIMITS);
    assert.deepEqual(plan.shapes, { gradInput: grouped.input });
    assert.equal(plan.geometry.inH, 5);
    assert.equal(plan.geometry.outW, 24);
  });

  it('accepts an inputShape equal to the derived one, and uses the same cost as forward', () => {
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

describe('conv-transpose2d grad-parameters', () => {
  const t = { input: grouped.input, gradOutput: grouped.output };

  it("gives gradWeight the weight's shape [Cin, Cout/groups, kH, kW] and gradBias [Cout]", () => {
    const plan = gradParameters({ ...t, kernelSize: [3, 2], computeBias: true }, grouped.params, LIMITS);
    assert.deepEqual(plan.shapes, { gradWeight: grouped.weight, gradBias: [6] });
  });

  it('takes the kernel size from gradWeight when kernelSize is absent', () => {
    const plan = gradParameters(
      { ...t, gradWeight: grouped.weight, gradBias: [6], computeBias: true },
      grouped.params,
      LIMITS,
    );
    assert.deepEqual(plan.shapes.gradWeight, grouped.weight);
    assert.equal(plan.geometry.kH, 3);
  });

  it('omits gradBias when computeBias is false', () => {
    const plan = gradParameters({ ...t, kernelSize: [3, 2], computeBias: false }, grouped.params, LIMITS);
    assert.deepEqual(plan.shapes, { gradWeight: grouped.weight });
    assert.equal('gradBias' in plan.shapes, false);
  });
});

describe('conv-transpose2d backward', () => {
  it('returns gradients shaped like input and weight, and costs two passes', () => {
    const t = { input: grouped.input, gradOutput: grouped.output, weight: grouped.weight };
    const plan = backward({ ...t, computeBias: true }, grouped.params, LIMITS);
    assert.deepEqual(plan.shapes, { gradInput: grouped.input, gradWeight: grouped.weight, gradBias: [6] });
    assert.equal(plan.macs, 2 * forward(t, grouped.params, LIMITS).macs);
    assert.deepEqual(backward({ ...t, computeBias: false }, grouped.params, LIMITS).shapes, {
      gradInput: grouped.input,
      gradWeight: grouped.weight,
    });
  });
});

describe('conv-transpose2d rejects malformed requests (400)', () => {
  const input = [1, 2, 5, 5];
  const weight = [2, 3, 3, 3];
  const cases: { name: string; run: () => unknown; path: string; message: string }[] = [
    {
      name: 'input of rank 5',
      run: () => forward({ input: [1, 1, 2, 5, 5], weight }, conv(), LIMITS),
      path: 'input.shape',
      message: 'input.shape must have 3 or 4 dimensions ([N, C, H, W] or unbatched [C, H, W]), got 5',
    },
    {
      name: 'a zero dimension',
      run: () => forward({ input: [1, 2, 0, 5], weight }, conv(), LIMITS),
      path: 'input.shape[2]',
      message: 'input.shape[2] must be an integer from 1 to 2147483647, got 0',
    },
    {
      name: 'a fractional dimension',
      run: () => forward({ input: [1, 2, 5, 5.5], weight }, conv(), LIMITS),
      path: 'input.shape[3]',
      message: 'input.shape[3] must be an integer from 1 to 2147483647, got 5.5',
    },
    {
      name: 'a dimension above 2^31-1',
      run: () => forward({ input, weight: [2, 2 ** 31, 3, 3] }, conv(), LIMITS),
      path: 'weight.shape[1]',
      message: 'weight.shape[1] must be an integer from 1 to 2147483647, got 2147483648',
    },
    {
      name: 'a weight that is not 4-D',
      run: () => forward({ input, weight: [2, 3, 3] }, conv(), LIMITS),
      path: 'weight.shape',
      message: 'weight.shape must have 4 dimensions ([dim0, dim1, kH, kW]), got 3',
    },
    {
      name: 'a bias that is not 1-D',
      run: () => forward({ input, weight, bias: [1, 3] }, conv(), LIMITS),
      path: 'bias.shape',
      message: 'bias.shape must have 1 dimensions ([Cout]), got 2',
    },
    {
      name: 'batched input with unbatched gradOutput',
      run: () => backward({ input, gradOutput: [3, 7, 7], weight, computeBias: true }, conv(), LIMITS),
      path: 'gradOutput.shape',
      message:
        'gradOutput.shape must have 4 dimensions (batched like input.shape: all tensors are batched or none is), got 3',
    },
    {
      name: 'an inputShape batched unlike gradOutput',
      run: () => gradInput({ gradOutput: [1, 3, 7, 7], weight, inputShape: [2, 5, 5] }, conv(), LIMITS),
      path: 'inputShape',
      message:
        'inputShape must have 4 dimensions (batched like gradOutput.shape: all tensors are batched or none is), got 3',
    },
    {
      name: 'stride 0',
      run: () => forward({ input, weight }, conv({ stride: [0, 1] }), LIMITS),
      path: 'stride[0]',
      message: 'stride[0] must be an integer from 1 to 2147483647, got 0',
    },
    {
      name: 'negative padding',
      run: () => forward({ input, weight }, conv({ padding: [0, -1] }), LIMITS),
      path: 'padding[1]',
      message: 'padding[1] must be an integer from 0 to 2147483647, got -1',
    },
    {
      name: 'negative outputPadding',
      run: () => forward({ input, weight }, conv({ outputPadding: [-1, 0] }), LIMITS),
      path: 'outputPadding[0]',
      message: 'outputPadding[0] must be an integer from 0 to 2147483647, got -1',
    },
    {
      name: 'dilation 0',
      run: () => forward({ input, weight }, conv({ dilation: [1, 0] }), LIMITS),
      path: 'dilation[1]',
      message: 'dilation[1] must be an integer from 1 to 2147483647, got 0',
    },
    {
      name: 'groups 0',
      run: () => forward({ input, weight }, conv({ groups: 0 }), LIMITS),
      path: 'groups',
      message: 'groups must be an integer from 1 to 2147483647, got 0',
    },
    {
      name: 'grad-parameters with neither kernelSize nor gradWeight',
      run: () => gradParameters({ input, gradOutput: [1, 3, 7, 7], computeBias: true }, conv(), LIMITS),
      path: 'kernelSize',
      message: 'kernelSize is required when gradWeight is not given',
    },
    {
      name: 'kernelSize 0',
      run: () =>
        gradParameters({ input, gradOutput: [1, 3, 7, 7], kernelSize: [3, 0], computeBias: true }, conv(), LIMITS),
      path: 'kernelSize[1]',
      message: 'kernelSize[1] must be an integer from 1 to 2147483647, got 0',
    },
    {
      name: 'a gradBias that is not 1-D',
      run: () =>
        gradParameters(
          { input, gradOutput: [1, 3, 7, 7], kernelSize: [3, 3], gradBias: [3, 1], computeBias: true },
          conv(),
          LIMITS,
        ),
      path: 'gradBias.shape',
      message: 'gradBias.shape must have 1 dimensions ([Cout]), got 2',
    },
  ];
  for (const c of cases) {
    it(`rejects ${c.name}`, () => assertOpError(c.run, { status: 400, path: c.path, message: c.message }));
  }
});

describe('conv-transpose2d rejects inconsistent requests (422)', () => {
  it('input channels must equal weight.shape[0], named at the channel axis of batched and unbatched inputs', () => {
    assertOpError(() => forward({ input: [1, 3, 5, 5], weight: [4, 2, 3, 3] }, conv(), LIMITS), {
      status: 422,
      path: 'input.shape[1]',
      message: 'input.shape[1] (3) must equal weight.shape[0] (4)',
    });
    assertOpError(() => forward({ input: [3, 5, 5], weight: [4, 2, 3, 3] }, conv(), LIMITS), {
      status: 422,
      path: 'input.shape[0]',
      message: 'input.shape[0] (3) must equal weight.shape[0] (4)',
    });
  });

  it('groups must divide the input channels', () => {
    assertOpError(() => forward({ input: [1, 3, 5, 5], weight: [3, 2, 3, 3] }, conv({ groups: 2 }), LIMITS), {
      status: 422,
      path: 'groups',
      message: 'groups (2) must divide the input channels, weight.shape[0] (3)',
    });
  });

  it('outputPadding must be smaller than either stride or dilation', () => {
    assertOpError(
      () =>
        forward({ input: [1, 1, 2, 2], weight: [1, 1, 3, 3] }, conv({ stride: [2, 2], outputPadding: [0, 2] }), LIMITS),
      {
        status: 422,
        path: 'outputPadding[1]',
        message:
          'output padding must be smaller than either stride or dilation, but got outputPadding[1] (2) with stride[1] (2) and dilation[1] (1)',
      },
    );
  });

  it('the output must be at least 1 pixel, the message showing the formula with its values', () => {
    // PyTorch reports the same -4 for this request.
    assertOpError(() => forward({ input: [1, 1, 2, 2], weight: [1, 1, 1, 1] }, conv({ padding: [3, 0] }), LIMITS), {
      status: 422,
      path: 'input.shape[2]',
      message: 'input.shape[2] (2) gives an output height below 1: (2 - 1) * 1 - 2 * 3 + 1 * (1 - 1) + 0 + 1 = -4',
    });
  });

  it('bias length must equal Cout = weight.shape[1] * groups', () => {
    assertOpError(
      () => forward({ input: [1, 4, 5, 5], weight: [4, 3, 3, 3], bias: [5] }, conv({ groups: 2 }), LIMITS),
      {
        status: 422,
        path: 'bias.shape[0]',
        message: 'bias.shape[0] (5) must equal the output channels, weight.shape[1] * groups = 3 * 2 = 6',
      },
    );
  });

  it('gradOutput must have the batch size of input', () => {
    assertOpError(
      () =>
        backward(
          { input: [2, 1, 3, 3], gradOutput: [3, 1, 5, 5], weight: [1, 1, 3, 3], computeBias: true },
          conv(),
          LIMITS,
        ),
      { status: 422, path: 'gradOutput.shape[0]', message: 'gradOutput.shape[0] (3) must equal input.shape[0] (2)' },
    );
  });

  it('gradOutput must have the output channels', () => {
    assertOpError(
      () =>
        backward({ input: [1, 3, 3], gradOutput: [2, 5, 5], weight: [1, 3, 3, 3], computeBias: true }, conv(), LIMITS),
      {
        status: 422,
        path: 'gradOutput.shape[0]',
        message: 'gradOutput.shape[0] (2) must equal the output channels, weight.shape[1] * groups = 3 * 1 = 3',
      },
    );
  });

  it('gradOutput must have the output size the input and params give', () => {
    assertOpError(
      () =>
        backward(
          { input: [1, 1, 3, 3], gradOutput: [1, 1, 5, 6], weight: [1, 1, 3, 3], computeBias: true },
          conv(),
          LIMITS,
        ),
      {
        status: 422,
        path: 'gradOutput.shape[3]',
        message:
          'gradOutput.shape[3] (6) must equal the output width that input.shape[3] and the params give: (3 - 1) * 1 - 2 * 0 + 1 * (3 - 1) + 0 + 1 = 5',
      },
    );
  });

  it('grad-input: the derived input size must be a whole number', () => {
    assertOpError(
      () => gradInput({ gradOutput: [1, 1, 6, 5], weight: [1, 1, 3, 3] }, conv({ stride: [2, 2] }), LIMITS),
      {
        status: 422,
        path: 'gradOutput.shape[2]',
        message:
          'gradOutput.shape[2] (6) implies an input height of (6 - 1 + 2 * 0 - 1 * (3 - 1) - 0) / 2 + 1 = 2.5, which is not a whole number >= 1',
      },
    );
  });

  it('grad-input: the derived input size must be at least 1', () => {
    assertOpError(() => gradInput({ gradOutput: [1, 2, 2], weight: [1, 1, 1, 5] }, conv(), LIMITS), {
      status: 422,
      path: 'gradOutput.shape[2]',
      message:
        'gradOutput.shape[2] (2) implies an input width of (2 - 1 + 2 * 0 - 1 * (5 - 1) - 0) / 1 + 1 = -2, which is not a whole number >= 1',
    });
  });

  it('grad-input: an inputShape given must equal the derived one', () => {
    assertOpError(
      () => gradInput({ gradOutput: [1, 1, 5, 5], weight: [1, 1, 3, 3], inputShape: [1, 1, 3, 4] }, conv(), LIMITS),
      {
        status: 422,
        path: 'inputShape',
        message:
          'inputShape [1, 1, 3, 4] must equal [1, 1, 3, 3], the input shape gradOutput, weight and the params imply',
      },
    );
  });

  describe('grad-parameters', () => {
    const t = { input: [1, 4, 3, 3], gradOutput: [1, 6, 5, 5] };
    const p = conv({ groups: 2 });

    it("kernelSize and gradWeight's shape must agree", () => {
      assertOpError(
        () => gradParameters({ ...t, kernelSize: [3, 3], gradWeight: [4, 3, 4, 3], computeBias: true }, p, LIMITS),
        { status: 422, path: 'gradWeight.shape[2]', message: 'gradWeight.shape[2] (4) must equal kernelSize[0] (3)' },
      );
    });

    it('gradWeight must be [Cin, Cout/groups, kH, kW]', () => {
      assertOpError(() => gradParameters({ ...t, gradWeight: [2, 3, 3, 3], computeBias: true }, p, LIMITS), {
        status: 422,
        path: 'gradWeight.shape[0]',
        message: 'gradWeight.shape[0] (2) must equal input.shape[1] (4)',
      });
      assertOpError(() => gradParameters({ ...t, gradWeight: [4, 6, 3, 3], computeBias: true }, p, LIMITS), {
        status: 422,
        path: 'gradWeight.shape[1]',
        message: 'gradWeight.shape[1] (6) must equal gradOutput.shape[1] (6) / groups (2) = 3',
      });
    });

    it('gradBias must be [Cout]', () => {
      assertOpError(() => gradParameters({ ...t, kernelSize: [3, 3], gradBias: [3], computeBias: true }, p, LIMITS), {
        status: 422,
        path: 'gradBias.shape[0]',
        message: 'gradBias.shape[0] (3) must equal the output channels, gradOutput.shape[1] (6)',
      });
    });

    it('gradBias must not be given when computeBias is false', () => {
      assertOpError(() => gradParameters({ ...t, kernelSize: [3, 3], gradBias: [6], computeBias: false }, p, LIMITS), {
        status: 422,
        path: 'gradBias',
        message: 'gradBias was given but computeBias is false: no bias gradient is computed to add into it',
      });
    });

    it("groups must divide gradOutput's channels", () => {
      assertOpError(
        () =>
          gradParameters(
            { input: [1, 4, 3, 3], gradOutput: [1, 5, 5, 5], kernelSize: [3, 3], computeBias: true },
            p,
            LIMITS,
          ),
        { status: 422, path: 'groups', message: 'groups (2) must divide the output channels, gradOutput.shape[1] (5)' },
      );
    });

    it('gradOutput must have the output size the kernel implies', () => {
      assertOpError(() => gradParameters({ ...t, kernelSize: [3, 2], computeBias: true }, p, LIMITS), {
        status: 422,
        path: 'gradOutput.shape[3]',
        message:
          'gradOutput.shape[3] (5) must equal the output width that input.shape[3] and the params give: (3 - 1) * 1 - 2 * 0 + 1 * (2 - 1) + 0 + 1 = 4',
      });
    });
  });
});

describe('conv-transpose2d refuses what is too large (413) before anything is allocated', () => {
  it('a huge stride on a 4-element input is a 413 on output with the exact count', () => {
    assertOpError(
      () => forward({ input: [1, 1, 2, 2], weight: [1, 1, 1, 1] }, conv({ stride: [1_000_000, 1_000_000] }), LIMITS),
      {
        status: 413,
        path: 'output',
        message: 'output has 1000002000001 elements (1 x 1 x 1000001 x 1000001), more than the limit of 16777216',
      },
    );
  });

  it('an output dimension past 2^31-1 is a 413, even under limits that would allow its elements', () => {
    const p = conv({ stride: [MAX_INT, 1], dilation: [MAX_INT, 1] });
    assertOpError(() => forward({ input: [1, 1, 2, 2], weight: [1, 1, MAX_INT, 1] }, p, NO_LIMITS), {
      status: 413,
      path: 'output',
      message:
        `output would have height (2 - 1) * ${MAX_INT} - 2 * 0 + ${MAX_INT} * (${MAX_INT} - 1) + 0 + 1 = ` +
        `${BigInt(MAX_INT) + BigInt(MAX_INT) * BigInt(MAX_INT - 1) + 1n}, more than the largest dimension, ${MAX_INT}`,
    });
  });

  it('a derived grad-input dimension past 2^31-1 is a 413 on gradInput', () => {
    assertOpError(
      () => gradInput({ gradOutput: [1, 1, 1, 1], weight: [1, 1, 1, 1] }, conv({ padding: [MAX_INT, 0] }), NO_LIMITS),
      {
        status: 413,
        path: 'gradInput',
        message: /^gradInput would have height .* = 4294967295, more than the largest dimension/,
      },
    );
  });

  it('an input whose element count passes 2^53 is counted exactly', () => {
    const input = [MAX_INT, MAX_INT, MAX_INT, MAX_INT];
    assertOpError(() => forward({ input, weight: [MAX_INT, 1, 1, 1] }, conv(), LIMITS), {
      status: 413,
      path: 'input',
      message: `input has ${BigInt(MAX_INT) ** 4n} elements (${input.join(' x ')}), more than the limit of 16777216`,
    });
  });

  it('the column scratch buffer counts against maxElements', () => {
    // output 1x1x6x6 = 36 fits, the buffer (1 x 5 x 5) x (2 x 2) = 100 does not.
    assertOpError(
      () => forward({ input: [1, 1, 2, 2], weight: [1, 1, 5, 5] }, conv(), { maxElements: 50, maxMacs: 1e9 }),
      {
        status: 413,
        path: 'columns',
        message: 'the column buffer has 100 elements (1 x 5 x 5 x 2 x 2), more than the limit of 50',
      },
    );
  });

  it('a cost over maxMacs is a 413 with an empty path', () => {
    assertOpError(
      () =>
        backward({ input: [2, 4, 5, 5], gradOutput: [2, 3, 7, 7], weight: [4, 3, 3, 3], computeBias: true }, conv(), {
          maxElements: 1e6,
          maxMacs: 10_000,
        }),
      {
        status: 413,
        path: '',
        message: `the request costs ${2 * 2 * 4 * 3 * 3 * 3 * 5 * 5} multiply-adds (2 x 2 x 4 x 3 x 3 x 3 x 5 x 5), more than the limit of 10000`,
      },
    );
  });

  it('a result over maxElements is a 413 on that result', () => {
    assertOpError(
      () =>
        gradParameters(
          { input: [1, 8, 2, 2], gradOutput: [1, 8, 4, 4], kernelSize: [3, 3], computeBias: true },
          conv(),
          { maxElements: 500, maxMacs: 1e9 },
        ),
      {
        status: 413,
        path: 'gradWeight',
        message: 'gradWeight has 576 elements (8 x 8 x 3 x 3), more than the limit of 500',
      },
    );
  });
});

describe('conv-transpose2d properties', () => {
  /** Per axis: size, kernel, stride, padding, dilation, and an outputPadding PyTorch accepts. */
  const axis = fc
    .record({
      size: fc.integer({ min: 1, max: 9 }),
      k: fc.integer({ min: 1, max: 5 }),
      s: fc.integer({ min: 1, max: 4 }),
      p: fc.integer({ min: 0, max: 6 }),
      d: fc.integer({ min: 1, max: 4 }),
      a: fc.nat({ max: 5 }),
    })
    .map((x) => {
      const a = x.a % Math.max(x.s, x.d);
      // The padding may eat at most the output that would exist without it.
      const p = Math.min(x.p, Math.floor(((x.size - 1) * x.s + x.d * (x.k - 1) + a) / 2));
      return { ...x, a, p };
    });
  /** A valid request of every pass, its output shape computed from docs/semantics.md's formula. */
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
        outputPadding: [r.h.a, r.w.a],
        dilation: [r.h.d, r.w.d],
        groups: r.groups,
      };
      return {
        input: [...lead, r.cinPerGroup * r.groups, r.h.size, r.w.size],
        weight: [r.cinPerGroup * r.groups, r.coutPerGroup, r.h.k, r.w.k],
        bias: [cout],
        output: [
          ...lead,
          cout,
          outSize(r.h.size, r.h.k, r.h.s, r.h.p, r.h.d, r.h.a),
          outSize(r.w.size, r.w.k, r.w.s, r.w.p, r.w.d, r.w.a),
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
          gradInput({ gradOutput: output, weight, inputShape: input }, p, NO_LIMITS).shapes.gradInput,
          input,
        );
        assert.deepEqual(
          gradParameters({ input, gradOutput: output, kernelSize, computeBias: true }, p, NO_LIMITS).shapes,
          { gradWeight: weight, gradBias: bias },
        );
        const bwd = backward({ input, gradOutput: output, weight, computeBias: false }, p, NO_LIMITS);
        assert.deepEqual(bwd.geometry, fwd.geometry);
        assert.equal(bwd.macs, 2 * fwd.macs);
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
          planOrOpError(() => gradInput({ gradOutput: a, weight: b, inputShape: bias ? c : undefined }, p, limits));
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
