import type { ConvGeometry, FloatArray } from '../geometry.js';
import { addBias } from './bias.js';
import { gemmThenCol2im } from './fused-columns.js';
import { forEachGroupBlock } from './group-blocks.js';
import { groupColumns } from './sample-columns.js';

/**
 * Transposed convolution (THNN SpatialFullConvolution updateOutput). Per sample and group:
 * columns = weight_g^T · input_n,g, folded by col2im onto the output (the column grid is the
 * input's), then bias per output channel. weight [inChannels, outChannels/groups, kH, kW];
 * bias may be null. columns holds scratchLength(g) elements.
 */
export function convTranspose2dForward<F extends FloatArray>(
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
  const rows = outPerGroup * g.kH * g.kW;
  const inPlane = g.inH * g.inW;
  forEachGroupBlock(g, (x, y, w) => {
    gemmThenCol2im({
      grid,
      image: output,
      imageOffset: y,
      columns,
      transA: true,
      m: rows,
      n: inPlane,
      k: inPerGroup,
      a: weight,
      aOffset: w,
      lda: rows,
      b: input,
      bOffset: x,
      ldb: inPlane,
    });
  });
  if (bias !== null) addBias(g, bias, output);
}
