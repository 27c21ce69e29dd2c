import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { FloatArray } from '../geometry.js';
import { type GridArgs, gridArgs } from '../kernels/sample-columns.js';
import { projectRoot } from '../project-root.js';
import { gemm as referenceGemm } from './gemm.js';
import type { Gemm, GemmArgs, GemmCol2im, Im2colGemm } from './gemm-signature.js';

/**
 * The host side of the native GEMM (native/convsvc_blas.c): CBLAS from the system's OpenBLAS,
 * and im2col / col2im in C, run in place on the caller's typed arrays. The addon checks every
 * argument itself and throws TypeError / RangeError; this module only loads it, checks that it
 * computes, and adapts the grid object to its positional arguments.
 */

/**
 * What the addon exports. The grid travels as its 13 fields, in GridArgs order. The fused steps'
 * argument lists mirror native/convsvc_blas.c's, which reads them by position: they are declared
 * here as the C side takes them, not derived from the TypeScript records.
 */
export interface NativeBlas {
  sgemm(...args: GemmArgs<FloatArray>): void;
  dgemm(...args: GemmArgs<FloatArray>): void;
  im2col(
    ...args: [...GridArgs, image: FloatArray, imageOffset: number, columns: FloatArray, columnsOffset: number]
  ): void;
  col2im(
    ...args: [...GridArgs, image: FloatArray, imageOffset: number, columns: FloatArray, columnsOffset: number]
  ): void;
  gemmCol2im(
    ...args: [
      transA: boolean,
      m: number,
      n: number,
      k: number,
      a: FloatArray,
      aOffset: number,
      lda: number,
      b: FloatArray,
      bOffset: number,
      ldb: number,
      ...GridArgs,
      image: FloatArray,
      imageOffset: number,
      columns: FloatArray,
    ]
  ): void;
  im2colGemm(
    ...args: [
      ...GridArgs,
      image: FloatArray,
      imageOffset: number,
      transA: boolean,
      transB: boolean,
      m: number,
      n: number,
      k: number,
      alpha: number,
      a: FloatArray,
      aOffset: number,
      lda: number,
      beta: number,
      c: FloatArray,
      cOffset: number,
      ldc: number,
      columns: FloatArray,
    ]
  ): void;
  /** OpenBLAS's own description: openblas_get_config(), openblas_get_corename(), its thread count. */
  blasInfo(): { readonly config: string; readonly core: string; readonly threads: number };
}

/** Where scripts/build-native.mjs puts the addon, relative to the project root. */
export const ADDON_PATH = join('build', 'native', 'convsvc_blas.node');

type Loaded = { readonly blas: NativeBlas; readonly why: null } | { readonly blas: null; readonly why: string };

let loaded: Loaded | undefined;

/** The addon when it loads and passes the self-check, else why not (for the start-up log). */
export function loadNative(): Loaded {
  loaded ??= load();
  return loaded;
}

function load(): Loaded {
  const root = projectRoot();
  const path = root === null ? null : join(root, ADDON_PATH);
  if (path === null || !existsSync(path))
    return { blas: null, why: `${ADDON_PATH} was not built (see the npm run build output)` };
  let blas: NativeBlas;
  try {
    blas = createRequire(import.meta.url)(path) as NativeBlas;
  } catch (err) {
    return { blas: null, why: `${ADDON_PATH} does not load: ${err instanceof Error ? err.message : String(err)}` };
  }
  const wrong = selfCheck(blas);
  return wrong === null ? { blas, why: null } : { blas: null, why: `${ADDON_PATH} fails its self-check: ${wrong}` };
}

/**
 * A small GEMM in every transpose and both element types against the TypeScript reference. The
 * entries are small whole numbers, so every sum is exact and the two must agree to the bit: a
 * library that loads but computes wrongly (a broken build, a mismatched ABI) is never offered.
 */
function selfCheck(blas: NativeBlas): string | null {
  const m = 3,
    n = 5,
    k = 4;
  const filled = (double: boolean, length: number, f: (i: number) => number): FloatArray => {
    const out = double ? new Float64Array(length) : new Float32Array(length);
    for (let i = 0; i < length; i++) out[i] = f(i);
    return out;
  };
  for (const double of [false, true]) {
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        const a = filled(double, m * k + 1, (i) => (i % 7) - 3);
        const b = filled(double, k * n + 1, (i) => (i % 5) - 2);
        const want = filled(double, m * n + 2, (i) => i % 3);
        const got = want.slice();
        const lda = transA ? m : k,
          ldb = transB ? k : n;
        referenceGemm(transA, transB, m, n, k, 2, a, 1, lda, b, 1, ldb, 0.5, want, 1, n);
        (double ? blas.dgemm : blas.sgemm)(transA, transB, m, n, k, 2, a, 1, lda, b, 1, ldb, 0.5, got, 1, n);
        if (got.some((v, i) => v !== want[i]))
          return `${double ? 'dgemm' : 'sgemm'} transA=${transA} transB=${transB} differs from the reference`;
      }
    }
  }
  return null;
}

/** The addon; only called by variants the registry offers, that is after loadNative succeeded. */
const blas = (): NativeBlas => {
  const { blas: b, why } = loadNative();
  if (b === null) throw new Error(`the native GEMM is not available: ${why}`);
  return b;
};

export const nativeSupported = (): boolean => loadNative().blas !== null;

/**
 * Multiply-adds per call into C: ~10 ms of one core. A deadline or a hang-up ends the worker
 * thread running a task (src/pool.ts), but V8 can stop a thread only when it runs JavaScript,
 * not inside a BLAS call; so a large GEMM is cut into bands of C's rows, one call each, and a
 * cancelled task stops within one band. Calls below this size, every conv of a usual layer
 * (DCGAN's largest is 2^27), go through in one piece.
 */
export const MACS_PER_CALL = 2 ** 29;

const whole = (x: number): boolean => Number.isSafeInteger(x) && x >= 0;
const span = (rows: number, cols: number, ld: number): number =>
  rows === 0 || cols === 0 ? 0 : (rows - 1) * ld + cols;
/** A block that certainly lies inside its array; anything doubtful goes to the addon in one call, which checks it. */
const inside = (f: FloatArray, offset: number, rows: number, cols: number, ld: number): boolean =>
  (f instanceof Float32Array || f instanceof Float64Array) &&
  whole(offset) &&
  whole(ld) &&
  ld >= cols &&
  offset + span(rows, cols, ld) <= f.length;

/** True when a product is worth cutting into bands: past MACS_PER_CALL and more than one row. */
const large = (m: number, n: number, k: number): boolean =>
  whole(m) && whole(n) && whole(k) && m * n * k > MACS_PER_CALL && m > 1;

function nativeGemm(double: boolean): Gemm {
  return (transA, transB, m, n, k, alpha, a, aOffset, lda, b, bOffset, ldb, beta, c, cOffset, ldc) => {
    const run = double ? blas().dgemm : blas().sgemm;
    // Checked whole before the first band runs: a call the addon would refuse must change nothing.
    const banded =
      large(m, n, k) &&
      inside(a, aOffset, transA ? k : m, transA ? m : k, lda) &&
      inside(b, bOffset, transB ? n : k, transB ? k : n, ldb) &&
      inside(c, cOffset, m, n, ldc);
    if (!banded) {
      run(transA, transB, m, n, k, alpha, a, aOffset, lda, b, bOffset, ldb, beta, c, cOffset, ldc);
      return;
    }
    const rows = Math.max(1, Math.floor(MACS_PER_CALL / (n * k)));
    for (let i = 0; i < m; i += rows) {
      const band = Math.min(rows, m - i);
      const aBand = aOffset + (transA ? i : i * lda);
      run(transA, transB, band, n, k, alpha, a, aBand, lda, b, bOffset, ldb, beta, c, cOffset + i * ldc, ldc);
    }
  };
}

export const f32GemmNative: Gemm = nativeGemm(false);
export const f64GemmNative: Gemm = nativeGemm(true);

const gemmOf = (f: FloatArray): Gemm => (f instanceof Float64Array ? f64GemmNative : f32GemmNative);

/**
 * The fused steps use the caller's `columns` scratch in place: the columns live in memory
 * JavaScript owns but never reads, and no copy is made either way. A product past
 * MACS_PER_CALL runs as the banded GEMM and the addon's col2im / im2col, so it stays cancellable.
 */
export const nativeGemmCol2im: GemmCol2im = (call) => {
  const { transA, m, n, k, a, aOffset, lda, b, bOffset, ldb, grid, image, imageOffset, columns } = call;
  if (m * n * k > MACS_PER_CALL && columns.length >= m * n) {
    gemmOf(image)(transA, false, m, n, k, 1, a, aOffset, lda, b, bOffset, ldb, 0, columns, 0, n);
    blas().col2im(...gridArgs(grid), image, imageOffset, columns, 0);
    return;
  }
  // The grid's fields by name, not `...gridArgs(grid)`: a spread call per block cost the small
  // op's native pass a measurable share (about 2%); the large paths above keep the spread.
  const { channels, height, width, kH, kW, sH, sW, pH, pW, dH, dW, colH, colW } = grid;
  blas().gemmCol2im(
    transA,
    m,
    n,
    k,
    a,
    aOffset,
    lda,
    b,
    bOffset,
    ldb,
    channels,
    height,
    width,
    kH,
    kW,
    sH,
    sW,
    pH,
    pW,
    dH,
    dW,
    colH,
    colW,
    image,
    imageOffset,
    columns,
  );
};

export const nativeIm2colGemm: Im2colGemm = (call) => {
  const { grid, image, imageOffset, columns, transA, transB, m, n, k, alpha, a, aOffset, lda, beta, c, cOffset, ldc } =
    call;
  if (m * n * k > MACS_PER_CALL) {
    blas().im2col(...gridArgs(grid), image, imageOffset, columns, 0);
    const ldb = grid.colH * grid.colW;
    gemmOf(c)(transA, transB, m, n, k, alpha, a, aOffset, lda, columns, 0, ldb, beta, c, cOffset, ldc);
    return;
  }
  // By name, not spread, as in nativeGemmCol2im.
  const { channels, height, width, kH, kW, sH, sW, pH, pW, dH, dW, colH, colW } = grid;
  blas().im2colGemm(
    channels,
    height,
    width,
    kH,
    kW,
    sH,
    sW,
    pH,
    pW,
    dH,
    dW,
    colH,
    colW,
    image,
    imageOffset,
    transA,
    transB,
    m,
    n,
    k,
    alpha,
    a,
    aOffset,
    lda,
    beta,
    c,
    cOffset,
    ldc,
    columns,
  );
};
