/**
 * The flat records a kernel needs, computed once on the main thread by src/ops/ after every
 * validity rule of docs/semantics.md has passed. Kernels trust them: they never re-check a shape.
 *
 * All tensors are dense, row-major, NCHW; an unbatched request is run with batch = 1.
 */

/** The element types, as the API names them: a request's tensors all share one. */
export const DTYPES = ['float32', 'float64'] as const;
export type Dtype = (typeof DTYPES)[number];

/** Float storage the kernels run on. All arrays of one call share one of the two types. */
export type FloatArray = Float32Array | Float64Array;

/** A sliding window over an image: kernel extent, stride, zero padding and dilation per axis. */
export interface Window {
  readonly kH: number;
  readonly kW: number;
  readonly sH: number;
  readonly sW: number;
  readonly pH: number;
  readonly pW: number;
  readonly dH: number;
  readonly dW: number;
}

/**
 * im2col / col2im: images [batch, channels, height, width] <-> columns
 * [batch, channels*kH*kW, colH*colW]. The column grid is passed, never recomputed, because a
 * transposed convolution's grid is its input's, which the im2col formula does not always give.
 */
export interface ColumnsGeometry extends Window {
  readonly batch: number;
  readonly channels: number;
  readonly height: number;
  readonly width: number;
  readonly colH: number;
  readonly colW: number;
}

/**
 * One convolution, plain or transposed, seen from the op's input to its output.
 *
 * conv2d:            input [batch, inChannels, inH, inW] -> output [batch, outChannels, outH, outW],
 *                    weight [outChannels, inChannels/groups, kH, kW], column grid outH x outW.
 * conv-transpose2d:  input [batch, inChannels, inH, inW] -> output [batch, outChannels, outH, outW],
 *                    weight [inChannels, outChannels/groups, kH, kW], column grid inH x inW.
 */
export interface ConvGeometry extends Window {
  readonly kind: 'conv2d' | 'conv-transpose2d';
  readonly batch: number;
  readonly groups: number;
  readonly inChannels: number;
  readonly outChannels: number;
  readonly inH: number;
  readonly inW: number;
  readonly outH: number;
  readonly outW: number;
  /** outputPadding; always 0 for conv2d. */
  readonly aH: number;
  readonly aW: number;
}
