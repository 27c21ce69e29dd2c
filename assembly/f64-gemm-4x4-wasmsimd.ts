/**
 * f64 GEMM micro-kernel, 4 rows x 4 columns, 128-bit WebAssembly SIMD (two lanes per vector).
 *
 * C[4 x 4] = alpha * Apanel · Bpanel + beta * C with Apanel kc x 4 and Bpanel kc x 4, packed.
 * Eight f64x2 accumulators hold the block, as in the f32 4x8 kernel: the same register budget
 * at half the lanes. beta == 0 overwrites C without reading it. `ldc` is in elements.
 */
export const F64_MR: i32 = 4;
export const F64_NR: i32 = 4;

// @ts-ignore: decorator
@inline
function update(row: usize, acc0: v128, acc1: v128, alpha: v128, beta: f64): void {
  let lo = f64x2.mul(acc0, alpha);
  let hi = f64x2.mul(acc1, alpha);
  if (beta != 0) {
    const b = f64x2.splat(beta);
    lo = f64x2.add(lo, f64x2.mul(v128.load(row), b));
    hi = f64x2.add(hi, f64x2.mul(v128.load(row, 16), b));
  }
  v128.store(row, lo);
  v128.store(row, hi, 16);
}

export function f64_gemm_4x4(kc: i32, alpha: f64, pa: usize, pb: usize, beta: f64, c: usize, ldc: i32): void {
  let c00 = f64x2.splat(0), c01 = f64x2.splat(0);
  let c10 = f64x2.splat(0), c11 = f64x2.splat(0);
  let c20 = f64x2.splat(0), c21 = f64x2.splat(0);
  let c30 = f64x2.splat(0), c31 = f64x2.splat(0);
  for (let p = 0; p < kc; p++) {
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    let a = v128.load64_splat(pa);
    c00 = f64x2.add(c00, f64x2.mul(a, b0));
    c01 = f64x2.add(c01, f64x2.mul(a, b1));
    a = v128.load64_splat(pa, 8);
    c10 = f64x2.add(c10, f64x2.mul(a, b0));
    c11 = f64x2.add(c11, f64x2.mul(a, b1));
    a = v128.load64_splat(pa, 16);
    c20 = f64x2.add(c20, f64x2.mul(a, b0));
    c21 = f64x2.add(c21, f64x2.mul(a, b1));
    a = v128.load64_splat(pa, 24);
    c30 = f64x2.add(c30, f64x2.mul(a, b0));
    c31 = f64x2.add(c31, f64x2.mul(a, b1));
    pa += 32;
    pb += 32;
  }
  const va = f64x2.splat(alpha);
  const stride = (<usize>ldc) << 3;
  update(c, c00, c01, va, beta);
  update(c + stride, c10, c11, va, beta);
  update(c + 2 * stride, c20, c21, va, beta);
  update(c + 3 * stride, c30, c31, va, beta);
}
