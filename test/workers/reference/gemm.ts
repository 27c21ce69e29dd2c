/**
 * Naive row-major GEMM straight from the definition, in float64: returns a copy of the whole C
 * buffer in which only the m x n block at cOffset (rows ldc apart) is replaced by
 * alpha * op(A) op(B) + beta * C, with beta == 0 meaning C is not read.
 */
export function gemmReference(
  transA: boolean,
  transB: boolean,
  m: number,
  n: number,
  k: number,
  alpha: number,
  a: ArrayLike<number>,
  aOffset: number,
  lda: number,
  b: ArrayLike<number>,
  bOffset: number,
  ldb: number,
  beta: number,
  c: ArrayLike<number>,
  cOffset: number,
  ldc: number,
): Float64Array {
  const opA = (i: number, p: number): number => (transA ? a[aOffset + p * lda + i] : a[aOffset + i * lda + p]);
  const opB = (p: number, j: number): number => (transB ? b[bOffset + j * ldb + p] : b[bOffset + p * ldb + j]);
  const out = Float64Array.from(c);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let product = 0;
      for (let p = 0; p < k; p++) product += opA(i, p) * opB(p, j);
      const index = cOffset + i * ldc + j;
      out[index] = (alpha === 0 ? 0 : alpha * product) + (beta === 0 ? 0 : beta * c[index]);
    }
  }
  return out;
}
