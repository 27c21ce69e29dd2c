import type { DType } from '../scratch.js';
import { gemm as referenceGemm } from './gemm.js';
import type { Gemm, GemmCol2im, Im2colGemm } from './gemm-signature.js';
import {
  f32GemmCol2imWasmSimd, f32GemmWasmSimd, f32Im2colGemmWasmSimd, f64GemmCol2imWasmSimd, f64GemmWasmSimd, f64Im2colGemmWasmSimd, wasmSimdSupported,
} from './wasm-simd-gemm.js';

/**
 * Every GEMM this project has, named by XNNPACK's grammar (element type, op, tile, target).
 * A variant is offered only where the runtime supports it; the TypeScript reference is always
 * offered and is the fallback. The kernels call the selected variant through `gemm` in
 * dispatch.ts; tests and benchmarks select each offered variant in turn.
 */
export interface GemmVariant {
  readonly name: string;
  readonly dtype: DType;
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
  { name: 'f32-gemm-reference-ts', dtype: 'float32', rank: 0, supported: always, gemm: referenceGemm },
  { name: 'f64-gemm-reference-ts', dtype: 'float64', rank: 0, supported: always, gemm: referenceGemm },
  { name: 'f32-gemm-4x8-wasmsimd', dtype: 'float32', rank: 1, supported: wasmSimdSupported, gemm: f32GemmWasmSimd, gemmCol2im: f32GemmCol2imWasmSimd, im2colGemm: f32Im2colGemmWasmSimd },
  { name: 'f64-gemm-4x4-wasmsimd', dtype: 'float64', rank: 1, supported: wasmSimdSupported, gemm: f64GemmWasmSimd, gemmCol2im: f64GemmCol2imWasmSimd, im2colGemm: f64Im2colGemmWasmSimd },
];

/** The variants this runtime supports. */
export function offeredVariants(): GemmVariant[] {
  return GEMM_VARIANTS.filter((v) => v.supported());
}

const best = (dtype: DType): GemmVariant =>
  offeredVariants()
    .filter((v) => v.dtype === dtype)
    .reduce((a, b) => (b.rank > a.rank ? b : a));

let selected: Record<DType, GemmVariant> | null = null;

/** The variant the kernels use for `dtype` in this thread. */
export function selectedVariant(dtype: DType): GemmVariant {
  selected ??= { float32: best('float32'), float64: best('float64') };
  return selected[dtype];
}

/**
 * Makes this thread's kernels use the named variant for its dtype (tests and benchmarks), or,
 * with no name, the best offered ones again. Refuses a variant the runtime does not offer.
 */
export function selectVariant(name?: string): void {
  const current = { float32: selectedVariant('float32'), float64: selectedVariant('float64') };
  if (name === undefined) {
    selected = null;
    return;
  }
  const variant = offeredVariants().find((v) => v.name === name);
  if (variant === undefined) throw new Error(`GEMM variant ${name} is not offered by this runtime`);
  selected = { ...current, [variant.dtype]: variant };
}
