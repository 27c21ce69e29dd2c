import type { ColumnsGeometry, ConvGeometry } from '../../workers/geometry.js';

/** A tensor's shape: every dimension an integer >= 1. */
export type Shape = readonly number[];

/** A pair parameter resolved to [h, w]. */
export type Pair = readonly [number, number];

/** Hyper-parameters of a convolution, pairs already resolved. outputPadding is [0, 0] for conv2d. */
export interface ConvParams {
  readonly stride: Pair;
  readonly padding: Pair;
  readonly outputPadding: Pair;
  readonly dilation: Pair;
  readonly groups: number;
}

/** Hyper-parameters of im2col / col2im, pairs already resolved. */
export interface WindowParams {
  readonly kernelSize: Pair;
  readonly stride: Pair;
  readonly padding: Pair;
  readonly dilation: Pair;
}

/** Size limits, checked from shapes alone before anything is allocated. */
export interface Limits {
  /** The most elements of any one input tensor, result tensor or scratch buffer. */
  readonly maxElements: number;
  /** The most multiply-adds one request may cost. */
  readonly maxMacs: number;
}

/**
 * What a validated request will compute: the kernel's geometry and every result's shape.
 * Results named in O may be absent (gradBias when computeBias is false): their keys are optional.
 */
export interface Plan<G, R extends string, O extends R = never> {
  readonly geometry: G;
  /** false when the request's tensors were unbatched (3-D / 2-D columns); results follow suit. */
  readonly batched: boolean;
  /** Shapes of the results, as they are returned to the caller. */
  readonly shapes: Readonly<Record<Exclude<R, O>, Shape> & Partial<Record<O, Shape>>>;
  /** Length of the column (im2col) scratch buffer one worker needs, in elements. */
  readonly scratchElements: number;
  /** Multiply-adds the request costs. */
  readonly macs: number;
}

export type ConvPlan<R extends string, O extends R = never> = Plan<ConvGeometry, R, O>;
export type ColumnsPlan<R extends string> = Plan<ColumnsGeometry, R>;
