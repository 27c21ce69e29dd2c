/**
 * The WebAssembly GEMM module: f32 and f64 entry points over this module's linear memory. The
 * host (workers/gemm/wasm-simd-gemm.ts) lays its operands out above `heapBase()` and passes byte
 * addresses; leading dimensions are in elements.
 */
import { col2im } from './col2im';
import { gemm, workspaceBytes } from './gemm';
import { im2col } from './im2col';

export function heapBase(): usize {
  return __heap_base;
}

export function workspaceBytesF32(): usize {
  return workspaceBytes<f32>();
}

export function workspaceBytesF64(): usize {
  return workspaceBytes<f64>();
}

export function gemmF32(
  transA: bool,
  transB: bool,
  m: i32,
  n: i32,
  k: i32,
  alpha: f32,
  a: usize,
  lda: i32,
  b: usize,
  ldb: i32,
  beta: f32,
  c: usize,
  ldc: i32,
  packed: usize,
): void {
  gemm<f32>(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, packed);
}

export function gemmF64(
  transA: bool,
  transB: bool,
  m: i32,
  n: i32,
  k: i32,
  alpha: f64,
  a: usize,
  lda: i32,
  b: usize,
  ldb: i32,
  beta: f64,
  c: usize,
  ldc: i32,
  packed: usize,
): void {
  gemm<f64>(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, packed);
}

export function col2imF32(
  columns: usize,
  image: usize,
  channels: i32,
  height: i32,
  width: i32,
  kH: i32,
  kW: i32,
  sH: i32,
  sW: i32,
  pH: i32,
  pW: i32,
  dH: i32,
  dW: i32,
  colH: i32,
  colW: i32,
): void {
  col2im<f32>(columns, image, channels, height, width, kH, kW, sH, sW, pH, pW, dH, dW, colH, colW);
}

export function col2imF64(
  columns: usize,
  image: usize,
  channels: i32,
  height: i32,
  width: i32,
  kH: i32,
  kW: i32,
  sH: i32,
  sW: i32,
  pH: i32,
  pW: i32,
  dH: i32,
  dW: i32,
  colH: i32,
  colW: i32,
): void {
  col2im<f64>(columns, image, channels, height, width, kH, kW, sH, sW, pH, pW, dH, dW, colH, colW);
}

export function im2colF32(
  image: usize,
  columns: usize,
  channels: i32,
  height: i32,
  width: i32,
  kH: i32,
  kW: i32,
  sH: i32,
  sW: i32,
  pH: i32,
  pW: i32,
  dH: i32,
  dW: i32,
  colH: i32,
  colW: i32,
): void {
  im2col<f32>(image, columns, channels, height, width, kH, kW, sH, sW, pH, pW, dH, dW, colH, colW);
}

export function im2colF64(
  image: usize,
  columns: usize,
  channels: i32,
  height: i32,
  width: i32,
  kH: i32,
  kW: i32,
  sH: i32,
  sW: i32,
  pH: i32,
  pW: i32,
  dH: i32,
  dW: i32,
  colH: i32,
  colW: i32,
): void {
  im2col<f64>(image, columns, channels, height, width, kH, kW, sH, sW, pH, pW, dH, dW, colH, colW);
}
