import type { ConvGeometry, FloatArray } from '../geometry.js';

/** output[n, c, :, :] += bias[c]. */
export function addBias<F extends FloatArray>(g: ConvGeometry, bias: F, output: F): void {
  const plane = g.outH * g.outW;
  for (let n = 0; n < g.batch; n++) {
    for (let c = 0; c < g.outChannels; c++) {
      const start = (n * g.outChannels + c) * plane;
      const b = bias[c];
      for (let i = start; i < start + plane; i++) output[i] += b;
    }
  }
}

/** gradBias[c] += scale * (sum of gradOutput[n, c, h, w] over n, h, w): the THNN beta = 1 contract. */
export function accumulateGradBias<F extends FloatArray>(
  g: ConvGeometry,
  gradOutput: F,
  scale: number,
  gradBias: F,
): void {
  const plane = g.outH * g.outW;
  for (let c = 0; c < g.outChannels; c++) {
    let sum = 0;
    for (let n = 0; n < g.batch; n++) {
      const start = (n * g.outChannels + c) * plane;
      for (let i = start; i < start + plane; i++) sum += gradOutput[i];
    }
    gradBias[c] += scale * sum;
  }
}
