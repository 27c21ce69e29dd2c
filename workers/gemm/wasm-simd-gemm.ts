import type { FloatArray } from '../geometry.js';
import type { Gemm } from './gemm-signature.js';
import { runtimeHasSimd } from './simd-probe.js';
import type { WasmMemory } from './wasm-api.js';
import { gemmModule, type GemmExports } from './wasm-module.js';

/**
 * The host side of the WebAssembly SIMD GEMM (assembly/): copies the stored spans of A and B
 * (and of C when beta reads it) into the module's memory with one memcpy each, runs the
 * packed, cache-blocked GEMM there, and copies C's block back. The copies are O(mk + kn + mn)
 * against the O(mnk) product; packing happens inside the module.
 *
 * Memory layout above the module's own data: the packing workspace, then A, B and C, each
 * 64-byte aligned. The memory grows on demand and is never shrunk, like the scratch buffers.
 */

const ALIGN = 64;
const align = (bytes: number): number => Math.ceil(bytes / ALIGN) * ALIGN;

/** Elements from the first to the last element of a stored rows x cols block, rows ld apart. */
const span = (rows: number, cols: number, ld: number): number => (rows === 0 || cols === 0 ? 0 : (rows - 1) * ld + cols);

interface Layout {
  readonly exports: GemmExports;
  /** Byte address of the packing workspace; operands follow it. */
  readonly packed: number;
  readonly operands: number;
}

let layout: Layout | null = null;

function currentLayout(): Layout {
  if (layout !== null) return layout;
  const exports = gemmModule();
  if (exports === null) throw new Error('the WebAssembly GEMM is not available in this runtime');
  const packed = align(exports.heapBase());
  const workspace = Math.max(exports.workspaceBytesF32(), exports.workspaceBytesF64());
  layout = { exports, packed, operands: packed + align(workspace) };
  return layout;
}

function ensureBytes(memory: WasmMemory, bytes: number): void {
  const have = memory.buffer.byteLength;
  if (have < bytes) memory.grow(Math.ceil((bytes - have) / 65536));
}

function wasmSimdGemm(elementBytes: 4 | 8): Gemm {
  return function gemm<F extends FloatArray>(
    transA: boolean, transB: boolean, m: number, n: number, k: number, alpha: number,
    a: F, aOffset: number, lda: number, b: F, bOffset: number, ldb: number,
    beta: number, c: F, cOffset: number, ldc: number,
  ): void {
    if (m === 0 || n === 0) return;
    if (c.BYTES_PER_ELEMENT !== elementBytes) throw new TypeError(`this GEMM runs on ${elementBytes * 8}-bit floats`);
    const { exports, packed, operands } = currentLayout();
    const readsAB = alpha !== 0 && k !== 0;
    const readsC = beta !== 0;
    const aSpan = readsAB ? span(transA ? k : m, transA ? m : k, lda) : 0;
    const bSpan = readsAB ? span(transB ? n : k, transB ? k : n, ldb) : 0;
    const cSpan = span(m, n, ldc);
    const aAt = operands;
    const bAt = aAt + align(aSpan * elementBytes);
    const cAt = bAt + align(bSpan * elementBytes);
    ensureBytes(exports.memory, cAt + cSpan * elementBytes);

    const Memory = elementBytes === 4 ? Float32Array : Float64Array;
    const view = new Memory(exports.memory.buffer) as F;
    const index = (address: number): number => address / elementBytes;
    if (readsAB) {
      view.set(a.subarray(aOffset, aOffset + aSpan), index(aAt));
      view.set(b.subarray(bOffset, bOffset + bSpan), index(bAt));
    }
    if (readsC) view.set(c.subarray(cOffset, cOffset + cSpan), index(cAt));

    const run = elementBytes === 4 ? exports.gemmF32 : exports.gemmF64;
    run(+transA, +transB, m, n, k, alpha, aAt, lda, bAt, ldb, beta, cAt, ldc, packed);

    if (readsC || ldc === n) {
      // C's whole span went in (or has no gaps): one copy back.
      c.set(view.subarray(index(cAt), index(cAt) + cSpan), cOffset);
    } else {
      // The gaps between C's rows were never written here: copy the rows alone.
      for (let i = 0; i < m; i++) {
        const from = index(cAt) + i * ldc;
        c.set(view.subarray(from, from + n), cOffset + i * ldc);
      }
    }
  } as Gemm;
}

/** True when the runtime runs WebAssembly SIMD and the module was built (and validates). */
export const wasmSimdSupported = (): boolean => runtimeHasSimd() && gemmModule() !== null;

export const f32GemmWasmSimd: Gemm = wasmSimdGemm(4);
export const f64GemmWasmSimd: Gemm = wasmSimdGemm(8);
