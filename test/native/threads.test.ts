/**
 * The pool is the parallelism: a process running WORKERS kernel threads on the native (OpenBLAS)
 * GEMM has no more threads than the same process on the WebAssembly GEMM, which starts none of
 * its own. OpenBLAS's pthread build would otherwise start (cores - 1) threads of its own.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { offeredVariants } from '../../workers/gemm/registry.js';
import { projectRoot } from '../helpers/paths.js';

const probe = new URL('../fixtures/pool-threads.js', import.meta.url);

/** The test runner's own variables would make the child report to it, with threads of its own. */
const childEnv = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('NODE_TEST')));

function threadCount(variant: 'native' | 'wasm', workers: number): { threads: number; variant: string } {
  const out = execFileSync(process.execPath, [probe.pathname], {
    cwd: projectRoot,
    // Unset, OPENBLAS_NUM_THREADS would be the library's default (every core); the addon must
    // make it 1 itself, so the test gives it a higher value to override.
    env: { ...childEnv, GEMM_VARIANT: variant, WORKERS: String(workers), OPENBLAS_NUM_THREADS: '4' },
    encoding: 'utf8',
  });
  return JSON.parse(out.trim().split('\n').pop()!) as { threads: number; variant: string };
}

const native = offeredVariants().some((v) => v.family === 'native');

describe('threads of a pool on the native GEMM', { skip: native ? false : 'the native GEMM is not built here' }, () => {
  for (const workers of [1, 2]) {
    it(`are no more than on WebAssembly with WORKERS=${workers}: OpenBLAS starts no threads of its own`, () => {
      const wasm = threadCount('wasm', workers);
      const blas = threadCount('native', workers);
      assert.equal(wasm.variant, 'f32-gemm-4x8-wasmsimd');
      assert.equal(blas.variant, 'f32-gemm-cblas-openblas');
      assert.ok(blas.threads <= wasm.threads, `native ${blas.threads} threads, wasm ${wasm.threads}`);
    });
  }
});
