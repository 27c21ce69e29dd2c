import type { ConvGeometry } from '../geometry.js';

/**
 * Calls `visit` once per sample and group, samples outer, with where that (sample, group)'s
 * block starts in the unfolded side (`imageAt`: a plain convolution's input, a transposed one's
 * output), in the other side, whose grid the columns are laid on (`gridAt`), and in the weight
 * (`weightAt`). A group is a contiguous run of channels in NCHW, and its weight block holds
 * inChannels/groups * outChannels/groups * kH * kW elements in both families' layouts.
 * One call of `visit` per block, never per element: the kernels' hot loops stay inside the GEMM.
 */
export function forEachGroupBlock(
  g: ConvGeometry,
  visit: (imageAt: number, gridAt: number, weightAt: number) => void,
): void {
  const inPerGroup = g.inChannels / g.groups;
  const outPerGroup = g.outChannels / g.groups;
  const inBlock = inPerGroup * g.inH * g.inW;
  const outBlock = outPerGroup * g.outH * g.outW;
  const plain = g.kind === 'conv2d';
  const imageBlock = plain ? inBlock : outBlock;
  const gridBlock = plain ? outBlock : inBlock;
  const weightBlock = inPerGroup * outPerGroup * g.kH * g.kW;
  for (let n = 0; n < g.batch; n++) {
    for (let group = 0; group < g.groups; group++) {
      const block = n * g.groups + group;
      visit(block * imageBlock, block * gridBlock, group * weightBlock);
    }
  }
}
