import type { ConvGeometry, FloatArray } from '../geometry.js';
import { im2colThenGemm } from './fused-columns.js';
import { forEachGroupBlock } from './group-blocks.js';
import { groupColumns } from './sample-columns.js';

/**
 * Gradient of a transposed convolution with respect to its input (THNN updateGradInput), i.e. a
 * plain convolution of gradOutput with the same weight. Per sample and group:
 * gradInput_n,g = weight_g · im2col(gradOutput_n,g), the im2col taken on the input's grid.
 * gradInput is overwritten. columns holds scratchLength(g) elements.
 */
export function convTranspose2dGradInput<F extends FloatArray>(
  g: ConvGeometry,
  gradOutput: F,
  weight: F,
  gradInput: F,
  columns: F,
): void {
  const grid = groupColumns(g);
  const inPerGroup = g.inChannels / g.groups;
  const outPerGroup = g.outChannels / g.groups;
  const rows = outPerGroup * g.kH * g.kW;
  const inPlane = g.inH * g.inW;
  forEachGroupBlock(g, (x, y, w) => {
    im2colThenGemm({
      grid,
      image: gradOutput,
      imageOffset: y,
      columns,
      transA: false,
      transB: false,
      m: inPerGroup,
      n: inPlane,
      k: rows,
      alpha: 1,
      a: weight,
      aOffset: w,
      lda: rows,
      beta: 0,
      c: gradInput,
      cOffset: x,
      ldc: inPlane,
    });
  });
}
