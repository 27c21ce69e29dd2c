import type { ConvGeometry } from '../geometry.js';

/**
 * Calls `visit` once per sample and group, samples outer, with where that (sample, group)'s
 * block starts in the input (`x`), in the output (`y`) and in the weight (`w`). A group is a
 * contiguous run of channels in NCHW, and its weight block holds
 * inChannels/groups * outChannels/groups * kH * kW elements in both families' layouts.
 * One call of `visit` per block, never per element: the kernels' hot loops stay inside the GEMM.
 */
export function forEachGroupBlock(g: ConvGeometry, visit: (x: number, y: number, w: number) => void): void {
  const inPerGroup = g.inChannels / g.groups;
  const outPerGroup = g.outChannels / g.groups;
  const inBlock = inPerGroup * g.inH * g.inW;
  const outBlock = outPerGroup * g.outH * g.outW;
  const weightBlock = inPerGroup * outPerGroup * g.kH * g.kW;
  for (let n = 0; n < g.batch; n++) {
    for (let group = 0; group < g.groups; group++) {
      const block = n * g.groups + group;
      visit(block * inBlock, block * outBlock, group * weightBlock);
    }
  }
}
