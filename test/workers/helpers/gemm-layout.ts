import type { Dtype } from '../../../workers/geometry.js';
import { random } from './tensors.js';

/** A gemm call laid out in buffers with offsets and leading dimensions wider than the matrices. */
export interface Layout {
  transA: boolean;
  transB: boolean;
  m: number;
  n: number;
  k: number;
  aOffset: number;
  bOffset: number;
  cOffset: number;
  /** Extra elements between stored rows, beyond the row length. */
  aPad: number;
  bPad: number;
  cPad: number;
}

/** Buffers for a layout: stored A is [m x k] or [k x m] when transposed, B [k x n] or [n x k]. */
export function buffers(l: Layout, dtype: Dtype, seed: number) {
  const [aRows, aCols] = l.transA ? [l.k, l.m] : [l.m, l.k];
  const [bRows, bCols] = l.transB ? [l.n, l.k] : [l.k, l.n];
  const lda = aCols + l.aPad;
  const ldb = bCols + l.bPad;
  const ldc = l.n + l.cPad;
  return {
    lda,
    ldb,
    ldc,
    // Trailing slack after the last row, so writes past the block would show.
    a: random(dtype, l.aOffset + aRows * lda + 2, seed),
    b: random(dtype, l.bOffset + bRows * ldb + 2, seed + 1),
    c: random(dtype, l.cOffset + l.m * ldc + 2, seed + 2),
  };
}
