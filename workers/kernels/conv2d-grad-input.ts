import type { ConvGeometry, FloatArray } from '../geometry.js';
import { gemmThenCol2im } from './fused-columns.js';
import { forEachGroupBlock } from './group-blocks.js';
import { groupColumns } from './sample-columns.js';

/**
 * Gradient of a plain convolution with respect to its input (THNN updateGradInput). Per sample
 * and group: gradInput_n,g = col2im(weight_g^T · gradOutput_n,g). gradInput is overwritten.
 * columns holds scratchLength(g) elements.
 */
export function conv2dGradInput<F extends FloatArray>(
  g: ConvGeometry,
  gradOutput: F,
  weight: F,
  gradInput: F,
  columns: F,
): void {
  const grid = groupColumns(g);
  const inPerGroup = g.inChannels / g.groups;
  const outPerGroup = g.outChannels / g.groups;
  const rows = inPerGroup * g.kH * g.kW;
  const outPlane = g.outH * g.outW;
  forEachGroupBlock(g, (x, y, w) => {
    gemmThenCol2im({
      grid,
      image: gradInput,
      imageOffset: x,
      columns,
      transA: true,
      m: rows,
      n: outPlane,
      k: outPerGroup,
      a: weight,
      aOffset: w,
      lda: rows,
      b: gradOutput,
      bOffset: y,
      ldb: outPlane,
    });
  });
}
