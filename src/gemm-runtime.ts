/**
 * Which GEMM this process runs, for the start-up log and /metrics: the variant per dtype and, for
 * the native one, the BLAS library and the core type OpenBLAS chose. Every thread selects its
 * variant itself (workers/gemm/registry.ts) from GEMM_VARIANT in the process environment, which
 * worker threads copy, so what the main thread selects here is what the pool runs.
 */
import { Gauge, type Registry } from 'prom-client';
import type { GemmFamily } from '../workers/gemm/family.js';
import { loadNative } from '../workers/gemm/native-gemm.js';
import { forcedFamily, selectedVariant } from '../workers/gemm/registry.js';

export interface GemmRuntime {
  /** What GEMM_VARIANT forces, or null: the best offered. */
  readonly forced: GemmFamily | null;
  readonly float32: string;
  readonly float64: string;
  /** "OpenBLAS 0.3.21" and the core it runs kernels for, when a native variant runs. */
  readonly blas: string | null;
  readonly core: string | null;
  /** Why the native variant is not offered, when it is not. */
  readonly nativeUnavailable: string | null;
}

/**
 * This thread's selection. Throws, stopping start-up, when GEMM_VARIANT forces a variant this
 * runtime does not offer (native without the built addon or OpenBLAS).
 */
export function gemmRuntime(): GemmRuntime {
  const float32 = selectedVariant('float32');
  const float64 = selectedVariant('float64');
  const usesNative = float32.family === 'native' || float64.family === 'native';
  const native = usesNative ? loadNative() : null;
  const info = native?.blas?.blasInfo() ?? null;
  return {
    forced: forcedFamily(),
    float32: float32.name,
    float64: float64.name,
    // openblas_get_config() starts "OpenBLAS 0.3.21 <build options> <core> MAX_THREADS=64".
    blas: info === null ? null : info.config.split(' ').slice(0, 2).join(' '),
    core: info?.core ?? null,
    nativeUnavailable: usesNative ? null : forcedFamily() !== null ? 'not asked for (GEMM_VARIANT)' : loadNative().why,
  };
}

/** convsvc_gemm_variant_info{dtype, variant, blas, core} 1: one series per dtype. */
export function registerGemmInfo(registry: Registry, runtime: GemmRuntime = gemmRuntime()): void {
  const gauge = new Gauge({
    name: 'convsvc_gemm_variant_info',
    help: 'The GEMM the kernels run, per dtype; for native, the BLAS library and its core type.',
    labelNames: ['dtype', 'variant', 'blas', 'core'] as const,
    registers: [registry],
    // Every server process runs the same GEMM: added up, the info would read 2, 4, ...
    aggregator: 'max',
  });
  for (const dtype of ['float32', 'float64'] as const) {
    const native = runtime[dtype].endsWith('-openblas');
    gauge.set(
      {
        dtype,
        variant: runtime[dtype],
        blas: native ? (runtime.blas ?? '') : '',
        core: native ? (runtime.core ?? '') : '',
      },
      1,
    );
  }
}
