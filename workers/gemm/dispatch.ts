import type { Gemm } from './gemm-signature.js';
import { selectedVariant } from './registry.js';

/** The GEMM the kernels call: the selected variant for the arrays' element type. */
export const gemm: Gemm = (transA, transB, m, n, k, alpha, a, aOffset, lda, b, bOffset, ldb, beta, c, cOffset, ldc) => {
  const variant = selectedVariant(c instanceof Float32Array ? 'float32' : 'float64');
  variant.gemm(transA, transB, m, n, k, alpha, a, aOffset, lda, b, bOffset, ldb, beta, c, cOffset, ldc);
};
