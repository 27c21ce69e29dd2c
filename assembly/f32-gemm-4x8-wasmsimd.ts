/**
 * f32 GEMM micro-kernel, 4 rows x 8 columns, 128-bit WebAssembly SIMD.
 *
 * C[4 x 8] = alpha * Apanel · Bpanel + beta * C, where Apanel is kc x 4 (packed, 4 values per
 * step of k) and Bpanel kc x 8 (packed, 8 values per step). The 4 x 8 block of C lives in eight
 * v128 accumulators for the whole k loop; with the two B vectors and one broadcast A value that
 * is 11 of x64's 16 vector registers, so nothing spills. beta == 0 overwrites C without reading it.
 * `ldc` is in elements.
 */
export const F32_MR: i32 = 4;
export const F32_NR: i32 = 8;

// @ts-ignore: decorator
@inline
function update(row: usize, acc0: v128, acc1: v128, alpha: v128, beta: f32): void {
  let lo = f32x4.mul(acc0, alpha);
  let hi = f32x4.mul(acc1, alpha);
  if (beta != 0) {
    const b = f32x4.splat(beta);
    lo = f32x4.add(lo, f32x4.mul(v128.load(row), b));
    hi = f32x4.add(hi, f32x4.mul(v128.load(row, 16), b));
  }
  v128.store(row, lo);
  v128.store(row, hi, 16);
}

export function f32_gemm_4x8(kc: i32, alpha: f32, pa: usize, pb: usize, beta: f32, c: usize, ldc: i32): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  for (let p = 0; p < kc; p++) {
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    let a = v128.load32_splat(pa);
    c00 = f32x4.add(c00, f32x4.mul(a, b0));
    c01 = f32x4.add(c01, f32x4.mul(a, b1));
    a = v128.load32_splat(pa, 4);
    c10 = f32x4.add(c10, f32x4.mul(a, b0));
    c11 = f32x4.add(c11, f32x4.mul(a, b1));
    a = v128.load32_splat(pa, 8);
    c20 = f32x4.add(c20, f32x4.mul(a, b0));
    c21 = f32x4.add(c21, f32x4.mul(a, b1));
    a = v128.load32_splat(pa, 12);
    c30 = f32x4.add(c30, f32x4.mul(a, b0));
    c31 = f32x4.add(c31, f32x4.mul(a, b1));
    pa += 16;
    pb += 32;
  }
  const va = f32x4.splat(alpha);
  const stride = (<usize>ldc) << 2;
  update(c, c00, c01, va, beta);
  update(c + stride, c10, c11, va, beta);
  update(c + 2 * stride, c20, c21, va, beta);
  update(c + 3 * stride, c30, c31, va, beta);
}
