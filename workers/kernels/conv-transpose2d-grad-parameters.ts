import type { ConvGeometry, FloatArray } from '../geometry.js';
import { accumulateGradBias } from './bias.js';
import { im2colThenGemm } from './fused-columns.js';
import { forEachGroupBlock } from './group-blocks.js';
import { groupColumns } from './sample-columns.js';

/**
 * Parameter gradients of a transposed convolution (THNN accGradParameters), accumulated into the
 * given buffers (beta = 1) and summed over the batch:
 * gradWeight_g += scale * input_n,g · im2col(gradOutput_n,g)^T and
 * gradBias[c] += scale * sum of gradOutput over n, h, w (skipped when gradBias is null).
 * gradWeight [inChannels, outChannels/groups, kH, kW]. columns holds scratchLength(g) elements.
 */
export function convTranspose2dGradParameters<F extends FloatArray>(
  g: ConvGeometry,
  input: F,
  gradOutput: F,
  gradWeight: F,
  gradBias: F | null,
  scale: number,
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
      transB: true,
      m: inPerGroup,
      n: rows,
      k: inPlane,
      alpha: scale,
      a: input,
      aOffset: x,
      lda: inPlane,
      beta: 1,
      c: gradWeight,
      cOffset: w,
      ldc: rows,
    });
  });
  if (gradBias !== null) accumulateGradBias(g, gradOutput, scale, gradBias);
}
