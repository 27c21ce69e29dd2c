/**
 * Packing, kept apart from the micro-kernels: copies a block of op(A) or op(B) into the order
 * the micro-kernel reads it (one contiguous panel per MR rows of A / NR columns of B, one
 * step of k after another), zero-padding the last panel so edge tiles need no special loop.
 * Pointers are byte addresses; leading dimensions are in elements.
 */
import { MR } from './blocking';

// @ts-ignore: decorator
@inline
function at<T>(base: usize, index: usize): T {
  return load<T>(base + (index << alignof<T>()));
}

/** op(A)[i, p] for i < mc, p < kc into MR-row panels: dst[(panel * kc + p) * MR + ii]. */
export function packA<T>(transA: bool, mc: i32, kc: i32, a: usize, lda: i32, dst: usize): void {
  const size = <usize>sizeof<T>();
  for (let ir = 0; ir < mc; ir += MR) {
    const rows = min(MR, mc - ir);
    for (let p = 0; p < kc; p++) {
      for (let ii = 0; ii < MR; ii++) {
        let v: T = <T>0;
        if (ii < rows) {
          const i = ir + ii;
          v = transA ? at<T>(a, <usize>p * lda + i) : at<T>(a, <usize>i * lda + p);
        }
        store<T>(dst, v);
        dst += size;
      }
    }
  }
}

/** op(B)[p, j] for p < kc, j < nc into NR-column panels: dst[(panel * kc + p) * NR + jj]. */
export function packB<T>(transB: bool, kc: i32, nc: i32, nr: i32, b: usize, ldb: i32, dst: usize): void {
  const size = <usize>sizeof<T>();
  for (let jr = 0; jr < nc; jr += nr) {
    const cols = min(nr, nc - jr);
    if (!transB && cols == nr) {
      // The common case: each step of k is one contiguous row piece of B, copied by vectors.
      const bytes = <usize>nr * size;
      for (let p = 0; p < kc; p++) {
        const src = b + ((<usize>p * ldb + jr) << alignof<T>());
        for (let o: usize = 0; o < bytes; o += 16) v128.store(dst + o, v128.load(src + o));
        dst += bytes;
      }
      continue;
    }
    for (let p = 0; p < kc; p++) {
      for (let jj = 0; jj < nr; jj++) {
        let v: T = <T>0;
        if (jj < cols) {
          const j = jr + jj;
          v = transB ? at<T>(b, <usize>j * ldb + p) : at<T>(b, <usize>p * ldb + j);
        }
        store<T>(dst, v);
        dst += size;
      }
    }
  }
}
