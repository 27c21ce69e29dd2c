import type { ConvGeometry, Dtype, FloatArray } from '../../../workers/geometry.js';
import { inputLength, outputLength, weightLength } from './geometry.js';
import { random } from './tensors.js';

/** Random tensors for every role a convolution of geometry g can take, in one dtype. */
export interface ConvData {
  readonly input: FloatArray;
  readonly weight: FloatArray;
  readonly bias: FloatArray;
  readonly gradOutput: FloatArray;
  /** Non-zero starting points, to check accumulation. */
  readonly gradWeight: FloatArray;
  readonly gradBias: FloatArray;
}

export function convData(g: ConvGeometry, dtype: Dtype, seed: number): ConvData {
  return {
    input: random(dtype, inputLength(g), seed),
    weight: random(dtype, weightLength(g), seed + 1),
    bias: random(dtype, g.outChannels, seed + 2),
    gradOutput: random(dtype, outputLength(g), seed + 3),
    gradWeight: random(dtype, weightLength(g), seed + 4),
    gradBias: random(dtype, g.outChannels, seed + 5),
  };
}
