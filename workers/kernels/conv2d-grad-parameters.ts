import type { ConvGeometry, FloatArray } from '../geometry.js';
import { accumulateGradBias } from './bias.js';
import { im2colThenGemm } from './fused-columns.js';
import { forEachGroupBlock } from './group-blocks.js';
import { groupColumns } from './sample-columns.js';

/**
 * Parameter gradients of a plain convolution (THNN accGradParameters), accumulated into the given
 * buffers (beta = 1) and summed over the batch:
 * gradWeight_g += scale * gradOutput_n,g · im2col(input_n,g)^T and
 * gradBias[c] += scale * sum of gradOutput over n, h, w (skipped when gradBias is null).
 * gradWeight [outChannels, inChannels/groups, kH, kW]. columns holds scratchLength(g) elements.
 */
export function conv2dGradParameters<F extends FloatArray>(
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
  const rows = inPerGroup * g.kH * g.kW;
  const outPlane = g.outH * g.outW;
  forEachGroupBlock(g, (x, y, w) => {
    im2colThenGemm({
      grid,
      image: input,
      imageOffset: x,
      columns,
      transA: false,
      transB: true,
      m: outPerGroup,
      n: rows,
      k: outPlane,
      alpha: scale,
      a: gradOutput,
      aOffset: y,
      lda: outPlane,
      beta: 1,
      c: gradWeight,
      cOffset: w,
      ldc: rows,
    });
  });
  if (gradBias !== null) accumulateGradBias(g, gradOutput, scale, gradBias);
}
