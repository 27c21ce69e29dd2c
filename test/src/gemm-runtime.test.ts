/**
 * The start-up report of the GEMM in use (src/gemm-runtime.ts): per dtype the variant this
 * thread selected, for native the BLAS library and core, GEMM_VARIANT forcing a family, and the
 * info series on /metrics. The process-level behaviour (start-up log, refusal) is in
 * test/process/gemm-variant.test.ts.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { gemmRuntime, registerGemmInfo } from '../../src/gemm-runtime.js';
import { offeredVariants, selectVariant } from '../../workers/gemm/registry.js';

const nativeOffered = offeredVariants().some((v) => v.family === 'native');

/** Runs fn with GEMM_VARIANT set in this thread's environment, then restores it and the selection. */
function forcing<T>(value: string, fn: () => T): T {
  const before = process.env.GEMM_VARIANT;
  process.env.GEMM_VARIANT = value;
  selectVariant();
  try {
    return fn();
  } finally {
    if (before === undefined) delete process.env.GEMM_VARIANT;
    else process.env.GEMM_VARIANT = before;
    selectVariant();
  }
}

describe('the GEMM runtime report', () => {
  afterEach(() => selectVariant());

  it('names the best offered variant per dtype: native where it is offered, with its BLAS and core', () => {
    const r = gemmRuntime();
    if (nativeOffered) {
      assert.deepEqual([r.float32, r.float64], ['f32-gemm-cblas-openblas', 'f64-gemm-cblas-openblas']);
      assert.match(r.blas ?? '', /^OpenBLAS \d+\.\d+\.\d+$/);
      assert.ok((r.core ?? '').length > 0);
      assert.equal(r.nativeUnavailable, null);
    } else {
      assert.deepEqual([r.float32, r.float64], ['f32-gemm-4x8-wasmsimd', 'f64-gemm-4x4-wasmsimd']);
      assert.equal(r.blas, null);
      assert.ok((r.nativeUnavailable ?? '').length > 0, 'says why native is not offered');
    }
  });

  it('runs the family GEMM_VARIANT forces', () => {
    forcing('wasm', () => {
      const r = gemmRuntime();
      assert.deepEqual(
        [r.forced, r.float32, r.float64, r.blas],
        ['wasm', 'f32-gemm-4x8-wasmsimd', 'f64-gemm-4x4-wasmsimd', null],
      );
    });
    forcing('typescript', () => {
      const r = gemmRuntime();
      assert.deepEqual(
        [r.forced, r.float32, r.float64],
        ['typescript', 'f32-gemm-reference-ts', 'f64-gemm-reference-ts'],
      );
    });
    if (nativeOffered) forcing('native', () => assert.equal(gemmRuntime().float32, 'f32-gemm-cblas-openblas'));
  });

  it('refuses a GEMM_VARIANT that names no family', () => {
    forcing('fast', () =>
      assert.throws(() => gemmRuntime(), /GEMM_VARIANT="fast": must be native, wasm or typescript/),
    );
  });

  it('exports convsvc_gemm_variant_info per dtype, with the BLAS and core for native', async () => {
    const registry = new Registry();
    registerGemmInfo(registry, {
      forced: null,
      float32: 'f32-gemm-cblas-openblas',
      float64: 'f64-gemm-4x4-wasmsimd',
      blas: 'OpenBLAS 0.3.21',
      core: 'Zen',
      nativeUnavailable: null,
    });
    const text = await registry.metrics();
    assert.match(
      text,
      /convsvc_gemm_variant_info\{dtype="float32",variant="f32-gemm-cblas-openblas",blas="OpenBLAS 0.3.21",core="Zen"\} 1/,
    );
    assert.match(
      text,
      /convsvc_gemm_variant_info\{dtype="float64",variant="f64-gemm-4x4-wasmsimd",blas="",core=""\} 1/,
    );
  });
});
