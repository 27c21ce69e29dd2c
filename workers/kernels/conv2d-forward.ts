import type { ConvGeometry, FloatArray } from '../geometry.js';
import { addBias } from './bias.js';
import { im2colThenGemm } from './fused-columns.js';
import { forEachGroupBlock } from './group-blocks.js';
import { groupColumns } from './sample-columns.js';

/**
 * Plain convolution (THNN SpatialConvolutionMM updateOutput). Per sample and group:
 * output_n,g = weight_g · im2col(input_n,g) on the output grid, then bias per output channel.
 * weight [outChannels, inChannels/groups, kH, kW]; bias may be null. columns holds
 * scratchLength(g) elements.
 */
export function conv2dForward<F extends FloatArray>(
  g: ConvGeometry,
  input: F,
  weight: F,
  bias: F | null,
  output: F,
  columns: F,
): void {
  const grid = groupColumns(g);
  const inPerGroup = g.inChannels / g.groups;
  const outPerGroup = g.outChannels / g.groups;
  const rows = inPerGroup * g.kH * g.kW;
  const outPlane = g.outH * g.outW;
  forEachGroupBlock(g, (x, y, w) => {
    im2colThenGemm({
      grid,
      image: input,
      imageOffset: x,
      columns,
      transA: false,
      transB: false,
      m: outPerGroup,
      n: outPlane,
      k: rows,
      alpha: 1,
      a: weight,
      aOffset: w,
      lda: rows,
      beta: 0,
      c: output,
      cOffset: y,
      ldc: outPlane,
    });
  });
  if (bias !== null) addBias(g, bias, output);
}
