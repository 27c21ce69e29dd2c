import type { ConvGeometry } from '../../../workers/geometry.js';

/** output[n, c, h, w] += bias[c]. */
export function addBiasReference(g: ConvGeometry, bias: ArrayLike<number>, output: Float64Array): void {
  for (let n = 0; n < g.batch; n++) {
    for (let c = 0; c < g.outChannels; c++) {
      for (let i = 0; i < g.outH * g.outW; i++) output[(n * g.outChannels + c) * g.outH * g.outW + i] += bias[c];
    }
  }
}

/** dL/dbias[c] = sum of gradOutput[n, c, h, w] over n, h, w (the same for both convolutions). */
export function gradBiasReference(g: ConvGeometry, gradOutput: ArrayLike<number>): Float64Array {
  const gradBias = new Float64Array(g.outChannels);
  for (let n = 0; n < g.batch; n++) {
    for (let c = 0; c < g.outChannels; c++) {
      for (let i = 0; i < g.outH * g.outW; i++)
        gradBias[c] += gradOutput[(n * g.outChannels + c) * g.outH * g.outW + i];
    }
  }
  return gradBias;
}
