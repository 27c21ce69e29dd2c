import type { FloatArray } from '../geometry.js';
import type { SampleColumns } from '../kernels/sample-columns.js';

/**
 * The one GEMM interface every variant implements (see gemm.ts for the contract): row-major
 * C[m x n] = alpha * op(A) op(B) + beta * C on blocks of typed arrays given by offset and
 * leading dimension. All three arrays share one element type.
 *
 * Positional, in BLAS's order, because the native addon and the WebAssembly module take it so and
 * a call is made per block of every request: declared here once, and each implementation is typed
 * by `Gemm` rather than spelling the types again.
 */
export type GemmArgs<F extends FloatArray> = [
  transA: boolean,
  transB: boolean,
  m: number,
  n: number,
  k: number,
  alpha: number,
  a: F,
  aOffset: number,
  lda: number,
  b: F,
  bOffset: number,
  ldb: number,
  beta: number,
  c: F,
  cOffset: number,
  ldc: number,
];

export type Gemm = <F extends FloatArray>(...args: GemmArgs<F>) => void;

/**
 * The image side of a fused step: one sample's image at `imageOffset`, unfolded or folded on
 * `grid`, and `columns` (one grid's columns), the caller's scratch, which an implementation may
 * leave unused.
 */
interface ImageColumns<F extends FloatArray> {
  readonly grid: SampleColumns;
  readonly image: F;
  readonly imageOffset: number;
  readonly columns: F;
}

/** The product's size, m x n over k, and its first operand op(A), as in GemmArgs. */
interface Product<F extends FloatArray> {
  readonly transA: boolean;
  readonly m: number;
  readonly n: number;
  readonly k: number;
  readonly a: F;
  readonly aOffset: number;
  readonly lda: number;
}

/**
 * columns = op(A) B (m x n, alpha 1, beta 0, B not transposed), then those columns folded by
 * col2im onto the image. The transposed convolution's per-sample step.
 */
export interface GemmCol2imCall<F extends FloatArray> extends Product<F>, ImageColumns<F> {
  readonly b: F;
  readonly bOffset: number;
  readonly ldb: number;
}

/**
 * B = im2col of the image (channels * kH * kW rows of colH * colW), then
 * C = alpha * op(A) op(B) + beta * C as gemm does. The convolutions' unfold-then-multiply step.
 */
export interface Im2colGemmCall<F extends FloatArray> extends Product<F>, ImageColumns<F> {
  readonly transB: boolean;
  readonly alpha: number;
  readonly beta: number;
  readonly c: F;
  readonly cOffset: number;
  readonly ldc: number;
}

/** A variant's own fused GEMM-then-col2im: same results as gemm followed by workers/kernels/col2im.ts. */
export type GemmCol2im = <F extends FloatArray>(call: GemmCol2imCall<F>) => void;

/** A variant's own fused im2col-then-GEMM: same results as workers/kernels/im2col.ts followed by gemm. */
export type Im2colGemm = <F extends FloatArray>(call: Im2colGemmCall<F>) => void;
