import type { ConvGeometry } from '../workers/geometry.js';

/** The four conv-transpose2d layers BENCHMARKS.md measures, as the service plans them. */
export interface BenchShape {
  readonly name: string;
  readonly geometry: ConvGeometry;
}

interface Spec {
  batch: number;
  inChannels: number;
  outChannels: number;
  size: number;
  k: number;
  s: number;
  p: number;
}

function convTranspose({ batch, inChannels, outChannels, size, k, s, p }: Spec): ConvGeometry {
  const out = (size - 1) * s - 2 * p + k;
  return {
    kind: 'conv-transpose2d',
    batch,
    groups: 1,
    inChannels,
    outChannels,
    inH: size,
    inW: size,
    outH: out,
    outW: out,
    kH: k,
    kW: k,
    sH: s,
    sW: s,
    pH: p,
    pW: p,
    dH: 1,
    dW: 1,
    aH: 0,
    aW: 0,
  };
}

export const SHAPES: readonly BenchShape[] = [
  {
    name: 'DCGAN N=4 256->128 16->32 k4 s2 p1',
    geometry: convTranspose({ batch: 4, inChannels: 256, outChannels: 128, size: 16, k: 4, s: 2, p: 1 }),
  },
  {
    name: 'U-Net N=4 128->64 32->64 k2 s2',
    geometry: convTranspose({ batch: 4, inChannels: 128, outChannels: 64, size: 32, k: 2, s: 2, p: 0 }),
  },
  {
    name: 'FCN N=1 21->21 64->128 k4 s2 p1',
    geometry: convTranspose({ batch: 1, inChannels: 21, outChannels: 21, size: 64, k: 4, s: 2, p: 1 }),
  },
  {
    name: 'small N=1 16->16 8x8 k3 s1 p1',
    geometry: convTranspose({ batch: 1, inChannels: 16, outChannels: 16, size: 8, k: 3, s: 1, p: 1 }),
  },
];

/** Floating-point operations of any one pass (forward, grad-input or grad-parameters): 2 per multiply-add. */
export const flops = (g: ConvGeometry): number =>
  2 * g.batch * g.inChannels * (g.outChannels / g.groups) * g.kH * g.kW * g.inH * g.inW;

export const inputLength = (g: ConvGeometry): number => g.batch * g.inChannels * g.inH * g.inW;
export const outputLength = (g: ConvGeometry): number => g.batch * g.outChannels * g.outH * g.outW;
export const weightLength = (g: ConvGeometry): number => ((g.inChannels * g.outChannels) / g.groups) * g.kH * g.kW;

/** Uniform values in [-1, 1), deterministic so runs compare. */
export function randomArray<F extends Float32Array | Float64Array>(
  Type: new (n: number) => F,
  length: number,
  seed = 1,
): F {
  const out = new Type(length);
  let state = seed;
  for (let i = 0; i < length; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    out[i] = state / 2 ** 31 - 1;
  }
  return out;
}
