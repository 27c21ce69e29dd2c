/**
 * Cache blocking of the GEMM (BLIS's kc, mc, nc), per element type. A packed A block
 * (mc x kc) is sized for L2, a packed B panel (kc x nr) for L1, and a packed B block
 * (kc x nc) for the outer cache. Changing them changes speed, never results.
 */
export const KC: i32 = 256;

// @ts-ignore: decorator
@inline
export function mcFor<T>(): i32 {
  return sizeof<T>() == 4 ? 128 : 64;
}

// @ts-ignore: decorator
@inline
export function ncFor<T>(): i32 {
  return sizeof<T>() == 4 ? 2048 : 1024;
}

/** Rows of the micro-kernel's C block (both element types). */
export const MR: i32 = 4;

/** Columns of the micro-kernel's C block: one f32x4 or f64x2 pair per row. */
// @ts-ignore: decorator
@inline
export function nrFor<T>(): i32 {
  return sizeof<T>() == 4 ? 8 : 4;
}
