import type { ColumnsGeometry, ConvGeometry, Window } from '../../../workers/geometry.js';

/** Shapes and window of a convolution; the builders below derive its output size. */
export interface ConvSpec extends Window {
  readonly batch: number;
  readonly groups: number;
  readonly inChannels: number;
  readonly outChannels: number;
  readonly inH: number;
  readonly inW: number;
  /** outputPadding; transposed convolutions only. */
  readonly aH: number;
  readonly aW: number;
}

/** Shapes and window of im2col / col2im; the grid defaults to the unfold formula's. */
export interface ColumnsSpec extends Window {
  readonly batch: number;
  readonly channels: number;
  readonly height: number;
  readonly width: number;
  readonly colH?: number;
  readonly colW?: number;
}

/** Plain convolution / unfold output length along one axis (PyTorch's formula). */
export const convolvedSize = (size: number, k: number, s: number, p: number, d: number): number =>
  Math.floor((size + 2 * p - d * (k - 1) - 1) / s) + 1;

/** Transposed convolution output length along one axis (PyTorch's formula). */
export const transposedSize = (size: number, k: number, s: number, p: number, d: number, a: number): number =>
  (size - 1) * s - 2 * p + d * (k - 1) + a + 1;

export function convTranspose2dGeometry(s: ConvSpec): ConvGeometry {
  return {
    ...s,
    kind: 'conv-transpose2d',
    outH: transposedSize(s.inH, s.kH, s.sH, s.pH, s.dH, s.aH),
    outW: transposedSize(s.inW, s.kW, s.sW, s.pW, s.dW, s.aW),
  };
}

export function conv2dGeometry(s: Omit<ConvSpec, 'aH' | 'aW'>): ConvGeometry {
  return {
    ...s,
    kind: 'conv2d',
    aH: 0,
    aW: 0,
    outH: convolvedSize(s.inH, s.kH, s.sH, s.pH, s.dH),
    outW: convolvedSize(s.inW, s.kW, s.sW, s.pW, s.dW),
  };
}

export function columnsGeometry(s: ColumnsSpec): ColumnsGeometry {
  return {
    ...s,
    colH: s.colH ?? convolvedSize(s.height, s.kH, s.sH, s.pH, s.dH),
    colW: s.colW ?? convolvedSize(s.width, s.kW, s.sW, s.pW, s.dW),
  };
}

/** A geometry is computable when every output length is at least 1. */
export const hasOutput = (g: ConvGeometry | ColumnsGeometry): boolean =>
  'kind' in g ? g.outH >= 1 && g.outW >= 1 : g.colH >= 1 && g.colW >= 1;

export const inputLength = (g: ConvGeometry): number => g.batch * g.inChannels * g.inH * g.inW;
export const outputLength = (g: ConvGeometry): number => g.batch * g.outChannels * g.outH * g.outW;
export const weightLength = (g: ConvGeometry): number => (g.inChannels * g.outChannels * g.kH * g.kW) / g.groups;
export const imageLength = (g: ColumnsGeometry): number => g.batch * g.channels * g.height * g.width;
export const columnsLength = (g: ColumnsGeometry): number => g.batch * g.channels * g.kH * g.kW * g.colH * g.colW;
