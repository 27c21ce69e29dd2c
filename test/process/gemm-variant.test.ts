/**
 * GEMM_VARIANT and the GEMM report in a real process: the start-up log and /metrics say which
 * variant runs (and for native which BLAS on which core), a forced family is what the kernels
 * run, and a bad value or a forced native that cannot load stops start-up with a message.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { startServer } from '../../scripts/server-process.js';
import { offeredVariants } from '../../workers/gemm/registry.js';
import { projectRoot } from '../helpers/paths.js';

const nativeOffered = offeredVariants().some((v) => v.family === 'native');
const serverJs = join(projectRoot, 'dist', 'src', 'server.js');

async function metricsOf(env: Record<string, string>): Promise<{ metrics: string; logs: Record<string, unknown>[] }> {
  const server = await startServer(env);
  try {
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    return { metrics, logs: server.logs };
  } finally {
    server.child.kill('SIGTERM');
    await server.exited;
  }
}

describe('GEMM_VARIANT in the running service', () => {
  it('logs and exports the variant it runs by default', async () => {
    const { metrics, logs } = await metricsOf({});
    const logged = logs.find((l) => l.msg === 'GEMM variant')?.gemm as Record<string, unknown> | undefined;
    assert.ok(logged !== undefined, 'a start-up log line names the GEMM');
    const want = nativeOffered ? 'f32-gemm-cblas-openblas' : 'f32-gemm-4x8-wasmsimd';
    assert.equal(logged.float32, want);
    assert.match(metrics, new RegExp(`convsvc_gemm_variant_info\\{dtype="float32",variant="${want}"`));
    if (nativeOffered) {
      assert.match(String(logged.blas), /^OpenBLAS /);
      assert.match(
        metrics,
        /convsvc_gemm_variant_info\{dtype="float64",variant="f64-gemm-cblas-openblas",blas="OpenBLAS [\d.]+",core="\w+"\} 1/,
      );
    }
  });

  it('runs the WebAssembly GEMM when GEMM_VARIANT=wasm', async () => {
    const { metrics } = await metricsOf({ GEMM_VARIANT: 'wasm' });
    assert.match(
      metrics,
      /convsvc_gemm_variant_info\{dtype="float32",variant="f32-gemm-4x8-wasmsimd",blas="",core=""\} 1/,
    );
  });

  it('refuses to start on GEMM_VARIANT=fast, naming the variable', () => {
    const run = spawnSync(process.execPath, [serverJs], {
      env: { PATH: process.env.PATH ?? '', GEMM_VARIANT: 'fast', PORT: '0' },
      encoding: 'utf8',
      timeout: 20_000,
    });
    assert.equal(run.status, 2, run.stderr);
    assert.match(run.stderr, /GEMM_VARIANT="fast"/);
  });

  it('refuses to start on GEMM_VARIANT=native where the addon was not built, saying why', (t) => {
    // A copy of the built service without build/native: what a machine without OpenBLAS has.
    const dir = mkdtempSync(join(tmpdir(), 'convsvc-no-native-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    cpSync(join(projectRoot, 'dist'), join(dir, 'dist'), { recursive: true });
    cpSync(join(projectRoot, 'build', 'wasm'), join(dir, 'build', 'wasm'), { recursive: true });
    cpSync(join(projectRoot, 'package.json'), join(dir, 'package.json'));
    symlinkSync(join(projectRoot, 'node_modules'), join(dir, 'node_modules'));
    const env = { PATH: process.env.PATH ?? '', PORT: '0', HOST: '127.0.0.1', WORKERS: '1' };
    const run = spawnSync(process.execPath, [join(dir, 'dist', 'src', 'server.js')], {
      env: { ...env, GEMM_VARIANT: 'native' },
      encoding: 'utf8',
      timeout: 20_000,
    });
    assert.equal(run.status, 1, run.stderr);
    assert.match(
      run.stderr,
      /failed to start: GEMM_VARIANT=native: no native GEMM for float32: build\/native\/convsvc_blas.node was not built/,
    );
  });
});
