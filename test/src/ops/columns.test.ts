import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { col2im, im2col } from '../../../src/ops/columns.js';
import type { Pair, WindowParams } from '../../../src/ops/types.js';
import {
  assertOpError,
  corrupted,
  garbagePair,
  garbageShape,
  LIMITS,
  MAX_INT,
  NO_LIMITS,
  planOrOpError,
  someLimits,
  windowed,
} from './op-test-helpers.js';

/** docs/semantics.md: L along one axis = floor((H + 2p - d(k-1) - 1) / s) + 1, written out independently of the module. */
const positions = (h: number, k: number, s: number, p: number, d: number): number =>
  Math.floor((h + 2 * p - d * (k - 1) - 1) / s) + 1;

// Checked against torch.nn.functional.unfold (PyTorch 1.13): input [2,3,9,11], kernel_size (3,2),
// dilation (2,3), padding (1,0), stride (2,1) -> [2, 18, 32].
const unfold = {
  input: [2, 3, 9, 11],
  params: windowed([3, 2], { dilation: [2, 3], padding: [1, 0], stride: [2, 1] }),
  columns: [2, 18, 32],
};

describe('im2col', () => {
  it("gives torch.unfold's shape [N, C*kH*kW, L] and the geometry of its window grid", () => {
    const plan = im2col({ input: unfold.input }, unfold.params, LIMITS);
    assert.deepEqual(plan.shapes, { columns: unfold.columns });
    assert.deepEqual(plan.geometry, {
      batch: 2,
      channels: 3,
      height: 9,
      width: 11,
      colH: positions(9, 3, 2, 1, 2),
      colW: positions(11, 2, 1, 0, 3),
      kH: 3,
      kW: 2,
      sH: 2,
      sW: 1,
      pH: 1,
      pW: 0,
      dH: 2,
      dW: 3,
    });
  });

  it('needs no scratch buffer and costs one operation per column element', () => {
    const plan = im2col({ input: unfold.input }, unfold.params, LIMITS);
    assert.equal(plan.scratchElements, 0);
    assert.equal(plan.macs, 2 * 18 * 32);
  });

  it('turns an unbatched image into 2-D columns', () => {
    const plan = im2col({ input: [3, 9, 11] }, unfold.params, LIMITS);
    assert.deepEqual(plan.shapes, { columns: [18, 32] });
    assert.equal(plan.batched, false);
  });
});

describe('col2im', () => {
  it("gives torch.fold's shape [N, C, H, W] with the window grid outputSize implies", () => {
    // PyTorch: fold of [2,12,18], output_size (6,7), kernel_size (2,2), dilation (2,1), padding (1,0), stride (1,2) -> [2,3,6,7]
    const p = windowed([2, 2], { dilation: [2, 1], padding: [1, 0], stride: [1, 2] });
    const plan = col2im({ columns: [2, 12, 18], outputSize: [6, 7] }, p, LIMITS);
    assert.deepEqual(plan.shapes, { output: [2, 3, 6, 7] });
    assert.deepEqual(plan.geometry, {
      batch: 2,
      channels: 3,
      height: 6,
      width: 7,
      colH: positions(6, 2, 1, 1, 2),
      colW: positions(7, 2, 2, 0, 1),
      kH: 2,
      kW: 2,
      sH: 1,
      sW: 2,
      pH: 1,
      pW: 0,
      dH: 2,
      dW: 1,
    });
    assert.equal(plan.macs, 2 * 12 * 18);
  });

  it('turns unbatched 2-D columns into an unbatched image', () => {
    assert.deepEqual(col2im({ columns: [18, 32], outputSize: [9, 11] }, unfold.params, LIMITS).shapes, {
      output: [3, 9, 11],
    });
  });
});

describe('im2col and col2im reject malformed requests (400)', () => {
  it('rejects columns that are neither 2-D nor 3-D', () => {
    assertOpError(() => col2im({ columns: [1, 1, 9, 4], outputSize: [4, 4] }, windowed([3, 3]), LIMITS), {
      status: 400,
      path: 'columns.shape',
      message: 'columns.shape must have 2 or 3 dimensions ([N, C * kH * kW, L] or unbatched [C * kH * kW, L]), got 4',
    });
  });

  it('rejects an outputSize of 0', () => {
    assertOpError(() => col2im({ columns: [9, 4], outputSize: [4, 0] }, windowed([3, 3]), LIMITS), {
      status: 400,
      path: 'outputSize[1]',
      message: 'outputSize[1] must be an integer from 1 to 2147483647, got 0',
    });
  });

  it('rejects a kernelSize of 0', () => {
    assertOpError(() => im2col({ input: [1, 4, 4] }, windowed([0, 3]), LIMITS), {
      status: 400,
      path: 'kernelSize[0]',
      message: 'kernelSize[0] must be an integer from 1 to 2147483647, got 0',
    });
  });

  it('rejects a kernelSize that is not a pair', () => {
    assertOpError(() => im2col({ input: [1, 4, 4] }, windowed([3] as unknown as Pair), LIMITS), {
      status: 400,
      path: 'kernelSize',
      message: 'kernelSize must be a pair [h, w]',
    });
  });
});

describe('im2col and col2im reject inconsistent requests (422)', () => {
  it('im2col needs room for at least one window per axis, the count floored, as PyTorch does', () => {
    assertOpError(() => im2col({ input: [1, 1, 2, 2] }, windowed([3, 3], { stride: [2, 2] }), LIMITS), {
      status: 422,
      path: 'input.shape[2]',
      message:
        'input.shape[2] (2) leaves no room for a sliding window along the height: floor((2 + 2 * 0 - 1 * (3 - 1) - 1) / 2) + 1 = 0',
    });
  });

  it('col2im needs columns.shape[-2] divisible by kH*kW', () => {
    assertOpError(() => col2im({ columns: [1, 8, 4], outputSize: [4, 4] }, windowed([3, 3]), LIMITS), {
      status: 422,
      path: 'columns.shape[1]',
      message: 'columns.shape[1] (8) must be divisible by kernelSize[0] * kernelSize[1] (3 * 3 = 9)',
    });
  });

  it("col2im needs columns.shape[-1] to be the window count outputSize implies (torch.fold's rule)", () => {
    assertOpError(() => col2im({ columns: [1, 9, 5], outputSize: [4, 4] }, windowed([3, 3]), LIMITS), {
      status: 422,
      path: 'columns.shape[2]',
      message:
        'columns.shape[2] (5) must equal the number of sliding windows that outputSize and the params give, 2 * 2 = 4 ' +
        '(height: floor((4 + 2 * 0 - 1 * (3 - 1) - 1) / 1) + 1 = 2; width: floor((4 + 2 * 0 - 1 * (3 - 1) - 1) / 1) + 1 = 2)',
    });
  });

  it('col2im needs an outputSize with room for a window', () => {
    assertOpError(() => col2im({ columns: [9, 1], outputSize: [2, 4] }, windowed([3, 3]), LIMITS), {
      status: 422,
      path: 'outputSize[0]',
      message:
        'outputSize[0] (2) leaves no room for a sliding window along the height: floor((2 + 2 * 0 - 1 * (3 - 1) - 1) / 1) + 1 = 0',
    });
  });
});

describe('im2col and col2im refuse what is too large (413)', () => {
  it('columns over maxElements', () => {
    assertOpError(
      () =>
        im2col({ input: [1, 1, 100, 100] }, windowed([3, 3], { padding: [1, 1] }), {
          maxElements: 50_000,
          maxMacs: 1e9,
        }),
      {
        status: 413,
        path: 'columns',
        message: 'columns has 90000 elements (1 x 9 x 10000), more than the limit of 50000',
      },
    );
  });

  it('a window count past 2^31-1 is a 413, even under limits that would allow its elements', () => {
    assertOpError(() => im2col({ input: [1, MAX_INT, MAX_INT] }, windowed([1, 1]), NO_LIMITS), {
      status: 413,
      path: 'columns',
      message: `columns would have window positions ${MAX_INT} * ${MAX_INT} = ${BigInt(MAX_INT) ** 2n}, more than the largest dimension, ${MAX_INT}`,
    });
  });

  it('a row count C*kH*kW past 2^31-1 is a 413', () => {
    assertOpError(() => im2col({ input: [MAX_INT, 1, 1] }, windowed([2, 1], { padding: [1, 0] }), NO_LIMITS), {
      status: 413,
      path: 'columns',
      message: `columns would have rows C * kH * kW = ${MAX_INT} * 2 * 1 = ${2 * MAX_INT}, more than the largest dimension, ${MAX_INT}`,
    });
  });

  it('the output of col2im over maxElements', () => {
    // One column entry spread over a 1000 x 1000 image by a huge stride.
    const p = windowed([1, 1], { stride: [1000, 1000] });
    assertOpError(
      () => col2im({ columns: [1, 1], outputSize: [1000, 1000] }, p, { maxElements: 999_999, maxMacs: 1e9 }),
      {
        status: 413,
        path: 'output',
        message: 'output has 1000000 elements (1 x 1000 x 1000), more than the limit of 999999',
      },
    );
  });

  it('a cost over maxMacs is a 413 with an empty path', () => {
    assertOpError(
      () => col2im({ columns: [1, 9, 4], outputSize: [4, 4] }, windowed([3, 3]), { maxElements: 100, maxMacs: 10 }),
      { status: 413, path: '', message: 'the request costs 36 multiply-adds (1 x 9 x 4), more than the limit of 10' },
    );
  });
});

describe('im2col and col2im properties', () => {
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
      channels: fc.integer({ min: 1, max: 4 }),
      h: axis,
      w: axis,
    })
    .map(({ batch, channels, h, w }) => {
      const lead = batch === undefined ? [] : [batch];
      const params: WindowParams = {
        kernelSize: [h.k, w.k],
        stride: [h.s, w.s],
        padding: [h.p, w.p],
        dilation: [h.d, w.d],
      };
      const windows = positions(h.size, h.k, h.s, h.p, h.d) * positions(w.size, w.k, w.s, w.p, w.d);
      return {
        input: [...lead, channels, h.size, w.size],
        columns: [...lead, channels * h.k * w.k, windows],
        outputSize: [h.size, w.size] as [number, number],
        params,
      };
    });

  it("plans every valid request with torch's shapes, and col2im mirrors im2col", () => {
    fc.assert(
      fc.property(validRequest, ({ input, columns, outputSize, params }) => {
        const unfolded = im2col({ input }, params, NO_LIMITS);
        assert.deepEqual(unfolded.shapes.columns, columns);
        assert.ok(columns.every((d) => Number.isInteger(d) && d >= 1));
        const folded = col2im({ columns, outputSize }, params, NO_LIMITS);
        assert.deepEqual(folded.shapes.output, input);
        assert.deepEqual(folded.geometry, unfolded.geometry);
      }),
      { seed: 42, numRuns: 300 },
    );
  });

  const garbageWindow: fc.Arbitrary<WindowParams> = fc.record({
    kernelSize: garbagePair,
    stride: garbagePair,
    padding: garbagePair,
    dilation: garbagePair,
  });

  it('answers garbage integers with a plan or an OpError, never another error', () => {
    fc.assert(
      fc.property(garbageShape, garbagePair, garbageWindow, someLimits, (shape, outputSize, p, limits) => {
        planOrOpError(() => im2col({ input: shape }, p, limits));
        planOrOpError(() => col2im({ columns: shape.slice(1), outputSize }, p, limits));
      }),
      { seed: 42, numRuns: 1000 },
    );
  });

  it('answers valid requests with garbage in a few places with a plan or an OpError, never another error', () => {
    fc.assert(
      fc.property(corrupted(validRequest), someLimits, ({ input, columns, outputSize, params }, limits) => {
        planOrOpError(() => im2col({ input }, params, limits));
        planOrOpError(() => col2im({ columns, outputSize }, params, limits));
      }),
      { seed: 42, numRuns: 1000 },
    );
  });
});
