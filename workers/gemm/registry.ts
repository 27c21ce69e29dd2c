import type { Dtype } from '../geometry.js';
import { type GemmFamily, isGemmFamily } from './family.js';
import { gemm as referenceGemm } from './gemm.js';
import type { Gemm, GemmCol2im, Im2colGemm } from './gemm-signature.js';
import {
  f32GemmNative,
  f64GemmNative,
  loadNative,
  nativeGemmCol2im,
  nativeIm2colGemm,
  nativeSupported,
} from './native-gemm.js';
import {
  f32GemmCol2imWasmSimd,
  f32GemmWasmSimd,
  f32Im2colGemmWasmSimd,
  f64GemmCol2imWasmSimd,
  f64GemmWasmSimd,
  f64Im2colGemmWasmSimd,
  wasmSimdSupported,
} from './wasm-simd-gemm.js';

/**
 * Every GEMM this project has, named by XNNPACK's grammar (element type, op, tile, target).
 * A variant is offered only where the runtime supports it; the TypeScript reference is always
 * offered and is the fallback. The kernels call the selected variant through `gemm` in
 * dispatch.ts; tests and benchmarks select each offered variant in turn.
 */
export interface GemmVariant {
  readonly name: string;
  readonly dtype: Dtype;
  /** What GEMM_VARIANT calls it. */
  readonly family: GemmFamily;
  /** Higher wins when several are offered. */
  readonly rank: number;
  readonly supported: () => boolean;
  readonly gemm: Gemm;
  /** GEMM then col2im, and im2col then GEMM, in one step, where the variant does them better than the two apart. */
  readonly gemmCol2im?: GemmCol2im;
  readonly im2colGemm?: Im2colGemm;
}

const always = (): boolean => true;

export const GEMM_VARIANTS: readonly GemmVariant[] = [
  {
    name: 'f32-gemm-reference-ts',
    dtype: 'float32',
    family: 'typescript',
    rank: 0,
    supported: always,
    gemm: referenceGemm,
  },
  {
    name: 'f64-gemm-reference-ts',
    dtype: 'float64',
    family: 'typescript',
    rank: 0,
    supported: always,
    gemm: referenceGemm,
  },
  {
    name: 'f32-gemm-4x8-wasmsimd',
    dtype: 'float32',
    family: 'wasm',
    rank: 1,
    supported: wasmSimdSupported,
    gemm: f32GemmWasmSimd,
    gemmCol2im: f32GemmCol2imWasmSimd,
    im2colGemm: f32Im2colGemmWasmSimd,
  },
  {
    name: 'f64-gemm-4x4-wasmsimd',
    dtype: 'float64',
    family: 'wasm',
    rank: 1,
    supported: wasmSimdSupported,
    gemm: f64GemmWasmSimd,
    gemmCol2im: f64GemmCol2imWasmSimd,
    im2colGemm: f64Im2colGemmWasmSimd,
  },
  // Offered where the addon was built, loads and passes its self-check (native-gemm.ts).
  {
    name: 'f32-gemm-cblas-openblas',
    dtype: 'float32',
    family: 'native',
    rank: 2,
    supported: nativeSupported,
    gemm: f32GemmNative,
    gemmCol2im: nativeGemmCol2im,
    im2colGemm: nativeIm2colGemm,
  },
  {
    name: 'f64-gemm-cblas-openblas',
    dtype: 'float64',
    family: 'native',
    rank: 2,
    supported: nativeSupported,
    gemm: f64GemmNative,
    gemmCol2im: nativeGemmCol2im,
    im2colGemm: nativeIm2colGemm,
  },
];

/** The variants this runtime supports. */
export function offeredVariants(): GemmVariant[] {
  return GEMM_VARIANTS.filter((v) => v.supported());
}

/**
 * The family GEMM_VARIANT forces in this thread, or null. Read from this thread's environment,
 * which worker threads copy from the process's, so the pool follows the main thread.
 */
export function forcedFamily(env: NodeJS.ProcessEnv = process.env): GemmFamily | null {
  const value = env.GEMM_VARIANT;
  if (value === undefined || value === '') return null;
  if (!isGemmFamily(value))
    throw new Error(`GEMM_VARIANT=${JSON.stringify(value)}: must be native, wasm or typescript`);
  return value;
}

/** The best offered variant for `dtype` (of the forced family, if any); throws if it has none. */
const best = (dtype: Dtype): GemmVariant => {
  const family = forcedFamily();
  // Filtered by family before `supported` runs: a forced wasm or typescript never loads OpenBLAS.
  const candidates = GEMM_VARIANTS.filter(
    (v) => v.dtype === dtype && (family === null || v.family === family) && v.supported(),
  );
  if (candidates.length === 0) {
    const why = family === 'native' ? loadNative().why : 'it is not offered by this runtime';
    throw new Error(`GEMM_VARIANT=${family}: no ${family} GEMM for ${dtype}: ${why}`);
  }
  return candidates.reduce((a, b) => (b.rank > a.rank ? b : a));
};

let selected: Record<Dtype, GemmVariant> | null = null;

/** The variant the kernels use for `dtype` in this thread. */
export function selectedVariant(dtype: Dtype): GemmVariant {
  selected ??= { float32: best('float32'), float64: best('float64') };
  return selected[dtype];
}

/**
 * Makes this thread's kernels use the named variant for its dtype (tests and benchmarks), or,
 * with no name, the best offered ones again. Refuses a variant the runtime does not offer.
 */
export function selectVariant(name?: string): void {
  if (name === undefined) {
    selected = null;
    return;
  }
  const current = { float32: selectedVariant('float32'), float64: selectedVariant('float64') };
  const variant = offeredVariants().find((v) => v.name === name);
  if (variant === undefined) throw new Error(`GEMM variant ${name} is not offered by this runtime`);
  selected = { ...current, [variant.dtype]: variant };
}
