import type { FloatArray } from '../geometry.js';
import { gridArgs, imageLength, type SampleColumns } from '../kernels/sample-columns.js';
import type { Gemm, GemmArgs, GemmCol2im, Im2colGemm } from './gemm-signature.js';
import { runtimeHasSimd } from './simd-probe.js';
import type { WasmMemory } from './wasm-api.js';
import { type GemmExports, gemmModule } from './wasm-module.js';

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
const span = (rows: number, cols: number, ld: number): number =>
  rows === 0 || cols === 0 ? 0 : (rows - 1) * ld + cols;

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

/** Where one call's operands go in the module's memory. */
interface Operands {
  readonly exports: GemmExports;
  readonly packed: number;
  readonly aAt: number;
  readonly bAt: number;
  readonly cAt: number;
  /** The first free byte after C's span. */
  readonly end: number;
}

/**
 * Lays out A, B and C (and `extraBytes` after them) and copies the spans of A and B in; a B
 * given as a length alone is left for the caller to fill in the module (im2col).
 */
function placeOperands(
  elementBytes: 4 | 8,
  a: FloatArray,
  b: FloatArray | number,
  cSpan: number,
  extraBytes: number,
): Operands {
  const { exports, packed, operands } = currentLayout();
  const aAt = operands;
  const bAt = aAt + align(a.length * elementBytes);
  const cAt = bAt + align((typeof b === 'number' ? b : b.length) * elementBytes);
  const end = cAt + align(cSpan * elementBytes);
  ensureBytes(exports.memory, end + extraBytes);
  const view = memoryView(exports, elementBytes);
  view.set(a, aAt / elementBytes);
  if (typeof b !== 'number') view.set(b, bAt / elementBytes);
  return { exports, packed, aAt, bAt, cAt, end };
}

const memoryView = (exports: GemmExports, elementBytes: 4 | 8): FloatArray =>
  elementBytes === 4 ? new Float32Array(exports.memory.buffer) : new Float64Array(exports.memory.buffer);

function checkElement(c: FloatArray, elementBytes: 4 | 8): void {
  if (c.BYTES_PER_ELEMENT !== elementBytes) throw new TypeError(`this GEMM runs on ${elementBytes * 8}-bit floats`);
}

/**
 * The module's GEMM on the host's arrays: A in, B in (or, given `unfold`, made in the module as
 * the im2col of its image, `b` and `bOffset` then unused), C in when beta reads it, the
 * product, C out.
 */
function moduleGemm<F extends FloatArray>(
  elementBytes: 4 | 8,
  [transA, transB, m, n, k, alpha, a, aOffset, lda, b, bOffset, ldb, beta, c, cOffset, ldc]: GemmArgs<F>,
  unfold?: { readonly grid: SampleColumns; readonly image: F; readonly imageOffset: number },
): void {
  if (m === 0 || n === 0) return;
  checkElement(c, elementBytes);
  const readsAB = alpha !== 0 && k !== 0;
  const aSpan = readsAB ? span(transA ? k : m, transA ? m : k, lda) : 0;
  const bSpan = readsAB ? span(transB ? n : k, transB ? k : n, ldb) : 0;
  const imageSpan = unfold ? imageLength(unfold.grid) : 0;
  const bIn = unfold ? bSpan : b.subarray(bOffset, bOffset + bSpan);
  const cSpan = span(m, n, ldc);
  const placed = placeOperands(
    elementBytes,
    a.subarray(aOffset, aOffset + aSpan),
    bIn,
    cSpan,
    imageSpan * elementBytes,
  );
  const { exports, packed, aAt, bAt, cAt, end } = placed;
  const view = memoryView(exports, elementBytes) as F;
  const index = (address: number): number => address / elementBytes;
  if (unfold && readsAB) {
    view.set(unfold.image.subarray(unfold.imageOffset, unfold.imageOffset + imageSpan), index(end));
    (elementBytes === 4 ? exports.im2colF32 : exports.im2colF64)(end, bAt, ...gridArgs(unfold.grid));
  }
  const readsC = beta !== 0;
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
}

function wasmSimdGemm(elementBytes: 4 | 8): Gemm {
  return (...args) => moduleGemm(elementBytes, args);
}

/**
 * GEMM then col2im without leaving the module: the columns stay where the GEMM wrote them, are
 * folded there (assembly/col2im.ts), and only the image comes back, a quarter of the columns'
 * size for a 4x4 window at stride 2.
 */
function wasmSimdGemmCol2im(elementBytes: 4 | 8): GemmCol2im {
  return ({ transA, m, n, k, a, aOffset, lda, b, bOffset, ldb, grid, image, imageOffset }) => {
    checkElement(image, elementBytes);
    const imageSpan = imageLength(grid);
    const readsAB = m !== 0 && n !== 0 && k !== 0;
    const aSpan = readsAB ? span(transA ? k : m, transA ? m : k, lda) : 0;
    const bSpan = readsAB ? span(k, n, ldb) : 0;
    const aIn = a.subarray(aOffset, aOffset + aSpan);
    const bIn = b.subarray(bOffset, bOffset + bSpan);
    const { exports, packed, aAt, bAt, cAt, end } = placeOperands(
      elementBytes,
      aIn,
      bIn,
      m * n,
      imageSpan * elementBytes,
    );
    const run = elementBytes === 4 ? exports.gemmF32 : exports.gemmF64;
    if (m !== 0 && n !== 0) run(+transA, 0, m, n, k, 1, aAt, lda, bAt, ldb, 0, cAt, n, packed);
    (elementBytes === 4 ? exports.col2imF32 : exports.col2imF64)(cAt, end, ...gridArgs(grid));
    const view = memoryView(exports, elementBytes);
    image.set(view.subarray(end / elementBytes, end / elementBytes + imageSpan), imageOffset);
  };
}

/**
 * im2col then GEMM without the columns leaving the module: the image goes in (a quarter of its
 * columns' size for a 4x4 window at stride 2), is unfolded there (assembly/im2col.ts) straight
 * into B's place, and the GEMM reads it.
 */
function wasmSimdIm2colGemm(elementBytes: 4 | 8): Im2colGemm {
  return (call) => {
    const { grid, image, transA, transB, m, n, k, alpha, a, aOffset, lda, beta, c, cOffset, ldc } = call;
    const ldb = grid.colH * grid.colW;
    moduleGemm(
      elementBytes,
      [transA, transB, m, n, k, alpha, a, aOffset, lda, image, 0, ldb, beta, c, cOffset, ldc],
      call,
    );
  };
}

/** True when the runtime runs WebAssembly SIMD and the module was built (and validates). */
export const wasmSimdSupported = (): boolean => runtimeHasSimd() && gemmModule() !== null;

export const f32GemmWasmSimd: Gemm = wasmSimdGemm(4);
export const f64GemmWasmSimd: Gemm = wasmSimdGemm(8);
export const f32GemmCol2imWasmSimd: GemmCol2im = wasmSimdGemmCol2im(4);
export const f64GemmCol2imWasmSimd: GemmCol2im = wasmSimdGemmCol2im(8);
export const f32Im2colGemmWasmSimd: Im2colGemm = wasmSimdIm2colGemm(4);
export const f64Im2colGemmWasmSimd: Im2colGemm = wasmSimdIm2colGemm(8);
