import fc from 'fast-check';
import type { ConvGeometry, Dtype, FloatArray } from '../../../workers/geometry.js';
import { scratchLength } from '../../../workers/kernels/columns-length.js';
import { type Bounds, convGeometries, dataSeed, dtypes, scales } from './arbitraries.js';
import { type ConvData, convData } from './conv-data.js';
import { type ConvSpec, conv2dGeometry, convTranspose2dGeometry } from './geometry.js';
import { filled } from './tensors.js';

/** One random convolution with its data, the bias switch and a grad-parameters scale. */
export interface ConvCase {
  readonly g: ConvGeometry;
  readonly dtype: Dtype;
  readonly data: ConvData;
  readonly withBias: boolean;
  readonly scale: number;
}

export function convCases(kind: ConvGeometry['kind'], bounds?: Bounds): fc.Arbitrary<ConvCase> {
  return fc
    .record({ g: convGeometries(kind, bounds), dtype: dtypes, seed: dataSeed, withBias: fc.boolean(), scale: scales })
    .map(({ g, dtype, seed, withBias, scale }) => ({ g, dtype, data: convData(g, dtype, seed), withBias, scale }));
}

/** The explicit geometries below, with data in both dtypes. */
export function explicitCases(geometries: readonly ConvGeometry[]): ConvCase[] {
  return geometries.flatMap((g, i) =>
    (['float32', 'float64'] as const).map((dtype) => ({
      g,
      dtype,
      data: convData(g, dtype, 1000 + i),
      withBias: true,
      scale: 0.5,
    })),
  );
}

/**
 * Scratch of exactly scratchLength(g) elements, filled with NaN: a kernel that read scratch
 * before writing it, or needed more of it, would show NaN in its results.
 */
export function scratchFor(g: ConvGeometry, dtype: Dtype): FloatArray {
  return filled(dtype, scratchLength(g), Number.NaN);
}

const base: ConvSpec = {
  batch: 2,
  groups: 1,
  inChannels: 2,
  outChannels: 3,
  inH: 3,
  inW: 4,
  kH: 3,
  kW: 2,
  sH: 1,
  sW: 1,
  pH: 0,
  pW: 0,
  dH: 1,
  dW: 1,
  aH: 0,
  aW: 0,
};

/**
 * Transposed convolutions whose outputPadding reaches its stride (legal because it is below the
 * dilation). Unfolding their output with the im2col formula gives a grid larger than the input:
 * only a kernel that takes the grid from the geometry gets them right.
 */
export const outputPaddingAtLeastStride: readonly ConvGeometry[] = [
  { ...base, sH: 1, sW: 2, dH: 3, dW: 3, aH: 2, aW: 2, pW: 1 },
  { ...base, groups: 2, inChannels: 4, outChannels: 2, sH: 2, sW: 1, dH: 3, dW: 2, aH: 2, aW: 1, pH: 2 },
  { ...base, batch: 1, kH: 2, kW: 4, sH: 1, sW: 1, dH: 2, dW: 3, aH: 1, aW: 2, inH: 1, inW: 2 },
].map(convTranspose2dGeometry);

/**
 * Plain convolutions whose stride leaves input rows / columns no window reaches (besides the
 * padding): their input gradient there is 0, and the grid must not be rounded up.
 */
export const strideLeavesRemainder: readonly ConvGeometry[] = [
  { ...base, inH: 6, inW: 7, sH: 2, sW: 3, pH: 0, pW: 1 },
  {
    ...base,
    groups: 2,
    inChannels: 4,
    outChannels: 2,
    inH: 7,
    inW: 5,
    kH: 2,
    kW: 3,
    sH: 3,
    sW: 2,
    dH: 2,
    dW: 1,
    pH: 1,
  },
].map(conv2dGeometry);

/** 1x1 kernel, stride 1, no padding (dilation immaterial): the columns are the image itself. */
export function pointwise(kind: ConvGeometry['kind']): ConvGeometry[] {
  const specs: ConvSpec[] = [
    { ...base, kH: 1, kW: 1 },
    { ...base, kH: 1, kW: 1, dH: 3, dW: 2, groups: 3, inChannels: 3, outChannels: 6, inH: 1, inW: 5 },
  ];
  return specs.map(kind === 'conv2d' ? conv2dGeometry : convTranspose2dGeometry);
}

/** 1x1 kernels that must still go through im2col / col2im: the window shifts or strides. */
export function nearlyPointwise(kind: ConvGeometry['kind']): ConvGeometry[] {
  if (kind === 'conv-transpose2d') {
    // Padding 1 taken back by outputPadding 2 (legal below dilation 3): same grid, shifted by one.
    return [convTranspose2dGeometry({ ...base, kH: 1, kW: 1, pH: 1, pW: 1, dH: 3, dW: 3, aH: 2, aW: 2 })];
  }
  return [
    conv2dGeometry({ ...base, kH: 1, kW: 1, sH: 2, sW: 1, inH: 5 }),
    conv2dGeometry({ ...base, kH: 1, kW: 1, pH: 1, pW: 0 }),
  ];
}
