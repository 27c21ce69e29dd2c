/**
 * Row-major C[m x n] = alpha * op(A) op(B) + beta * C on this module's memory, BLIS-style: five
 * loops (jc over nc-column blocks, pc over kc-deep slices, ic over mc-row blocks, jr and ir over
 * the micro-kernel's tiles) around a register-blocked SIMD micro-kernel, with op(B) packed once
 * per (jc, pc) and op(A) once per (jc, pc, ic). Same contract as workers/gemm/gemm.ts:
 * beta == 0 never reads C, alpha == 0 or k == 0 never reads A or B.
 */
import { KC, MR, mcFor, ncFor, nrFor } from './blocking';
import { f32_gemm_4x8 } from './f32-gemm-4x8-wasmsimd';
import { f64_gemm_4x4 } from './f64-gemm-4x4-wasmsimd';
import { packA, packB } from './pack';

/** One edge tile's worth of scratch: the micro-kernel writes there when C's block is partial. */
const tile = memory.data(MR * 8 * 8, 16);

// @ts-ignore: decorator
@inline
function microKernel<T>(kc: i32, alpha: T, pa: usize, pb: usize, beta: T, c: usize, ldc: i32): void {
  if (sizeof<T>() == 4) f32_gemm_4x8(kc, <f32>alpha, pa, pb, <f32>beta, c, ldc);
  else f64_gemm_4x4(kc, <f64>alpha, pa, pb, <f64>beta, c, ldc);
}

function scale<T>(m: i32, n: i32, beta: T, c: usize, ldc: i32): void {
  if (beta == <T>1) return;
  for (let i = 0; i < m; i++) {
    const row = c + ((<usize>i * ldc) << alignof<T>());
    for (let j = 0; j < n; j++) {
      const at = row + ((<usize>j) << alignof<T>());
      store<T>(at, beta == <T>0 ? <T>0 : load<T>(at) * beta);
    }
  }
}

/** Bytes of packing workspace gemm<T> needs at `packed`: the A block, then the B block. */
export function workspaceBytes<T>(): usize {
  const nr = nrFor<T>();
  const ncRounded = ((ncFor<T>() + nr - 1) / nr) * nr;
  return (<usize>mcFor<T>() * KC + <usize>KC * ncRounded) * sizeof<T>();
}

export function gemm<T>(
  transA: bool, transB: bool, m: i32, n: i32, k: i32,
  alpha: T, a: usize, lda: i32, b: usize, ldb: i32,
  beta: T, c: usize, ldc: i32, packed: usize,
): void {
  if (m <= 0 || n <= 0) return;
  if (alpha == <T>0 || k <= 0) {
    scale<T>(m, n, beta, c, ldc);
    return;
  }
  const shift = alignof<T>();
  const nr = nrFor<T>();
  const mcMax = mcFor<T>();
  const ncMax = ncFor<T>();
  const packedA = packed;
  const packedB = packed + ((<usize>mcMax * KC) << shift);
  for (let jc = 0; jc < n; jc += ncMax) {
    const nc = min(ncMax, n - jc);
    for (let pc = 0; pc < k; pc += KC) {
      const kc = min(KC, k - pc);
      const bBlock = transB ? <usize>jc * ldb + pc : <usize>pc * ldb + jc;
      packB<T>(transB, kc, nc, nr, b + (bBlock << shift), ldb, packedB);
      // Later slices of k add onto what the first one wrote.
      const betaHere: T = pc == 0 ? beta : <T>1;
      for (let ic = 0; ic < m; ic += mcMax) {
        const mc = min(mcMax, m - ic);
        const aBlock = transA ? <usize>pc * lda + ic : <usize>ic * lda + pc;
        packA<T>(transA, mc, kc, a + (aBlock << shift), lda, packedA);
        for (let jr = 0; jr < nc; jr += nr) {
          const cols = min(nr, nc - jr);
          const pb = packedB + ((<usize>jr * kc) << shift);
          for (let ir = 0; ir < mc; ir += MR) {
            const rows = min(MR, mc - ir);
            const pa = packedA + ((<usize>ir * kc) << shift);
            const cTile = c + ((<usize>(ic + ir) * ldc + jc + jr) << shift);
            if (rows == MR && cols == nr) {
              microKernel<T>(kc, alpha, pa, pb, betaHere, cTile, ldc);
            } else {
              microKernel<T>(kc, alpha, pa, pb, <T>0, tile, nr);
              addTile<T>(rows, cols, nr, betaHere, cTile, ldc);
            }
          }
        }
      }
    }
  }
}

/** C's partial edge block = tile + beta * C (beta == 0: C not read). */
function addTile<T>(rows: i32, cols: i32, nr: i32, beta: T, c: usize, ldc: i32): void {
  const shift = alignof<T>();
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      const at = c + ((<usize>i * ldc + j) << shift);
      const v = load<T>(tile + ((<usize>i * nr + j) << shift));
      store<T>(at, beta == <T>0 ? v : v + beta * load<T>(at));
    }
  }
}
