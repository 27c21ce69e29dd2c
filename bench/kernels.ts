/**
 * `npm run bench`: one thread, in-process, float32 (and float64 for our WASM), every pass of the
 * four layers: ours with the TypeScript reference GEMM, ours with the WebAssembly SIMD GEMM, ours
 * with the native (OpenBLAS) GEMM where it is built, tfjs-backend-wasm and tfjs-backend-cpu. Prints GFLOP/s and the ratios BENCHMARKS.md's targets use.
 * BENCH_BUDGET_MS bounds the time spent per cell (default 600).
 */

import { loadNative } from '../workers/gemm/native-gemm.js';
import { offeredVariants, selectVariant } from '../workers/gemm/registry.js';
import type { FloatArray } from '../workers/geometry.js';
import { type OpName, runTask, type Task } from '../workers/tasks.js';
import { timeOnnx } from './onnx.js';
import { type BenchShape, flops, inputLength, outputLength, randomArray, SHAPES, weightLength } from './shapes.js';
import { timeTf, useBackend } from './tfjs.js';
import { bestMs, table } from './timing.js';

type Pass = 'forward' | 'grad-input' | 'grad-parameters';
const PASSES: readonly Pass[] = ['forward', 'grad-input', 'grad-parameters'];
const BUDGET = Number(process.env.BENCH_BUDGET_MS ?? 600);

function task({ geometry: g }: BenchShape, pass: Pass, dtype: 'float32' | 'float64'): () => Task {
  const F = dtype === 'float32' ? Float32Array : Float64Array;
  const input = randomArray<FloatArray>(F, inputLength(g), 1);
  const weight = randomArray<FloatArray>(F, weightLength(g), 2);
  const gradOutput = randomArray<FloatArray>(F, outputLength(g), 3);
  const bias = randomArray<FloatArray>(F, g.outChannels, 4);
  const op = `conv-transpose2d/${pass}` as OpName;
  const tensors: Task['tensors'] =
    pass === 'forward'
      ? { input, weight, bias }
      : pass === 'grad-input'
        ? { gradOutput, weight }
        : { input, gradOutput };
  return () => ({ op, geometry: g, dtype, tensors });
}

function timeOurs(shape: BenchShape, pass: Pass, variant: string, dtype: 'float32' | 'float64'): number {
  selectVariant(variant);
  const make = task(shape, pass, dtype);
  try {
    return bestMs(() => runTask(make()), BUDGET);
  } finally {
    selectVariant();
  }
}

const gflops = (shape: BenchShape, ms: number): number => flops(shape.geometry) / ms / 1e6;
const fmt = (x: number): string => (Number.isFinite(x) ? x.toFixed(x >= 100 ? 0 : x >= 10 ? 1 : 2) : '—');
const ratio = (x: number): string => (Number.isFinite(x) ? `${x.toFixed(2)}x` : '—');

interface Row {
  shape: BenchShape;
  pass: Pass;
  ts: number;
  wasm: number;
  wasm64: number;
  native: number;
  native64: number;
  /** ONNX Runtime's forward on one thread: the yardstick of BENCHMARKS.md for every pass. */
  ortForward: number;
  tfWasm: number;
  tfCpu: number;
}

async function main(): Promise<void> {
  const native = offeredVariants().some((v) => v.family === 'native');
  if (!native) console.log(`native GEMM not offered (${loadNative().why}): its columns are empty`);
  const timeNative = (shape: BenchShape, pass: Pass, dtype: 'float32' | 'float64'): number =>
    native
      ? gflops(
          shape,
          timeOurs(shape, pass, dtype === 'float32' ? 'f32-gemm-cblas-openblas' : 'f64-gemm-cblas-openblas', dtype),
        )
      : NaN;
  const rows: Row[] = [];
  for (const shape of SHAPES) {
    for (const pass of PASSES) {
      rows.push({
        shape,
        pass,
        ts: gflops(shape, timeOurs(shape, pass, 'f32-gemm-reference-ts', 'float32')),
        wasm: gflops(shape, timeOurs(shape, pass, 'f32-gemm-4x8-wasmsimd', 'float32')),
        wasm64: gflops(shape, timeOurs(shape, pass, 'f64-gemm-4x4-wasmsimd', 'float64')),
        native: timeNative(shape, pass, 'float32'),
        native64: timeNative(shape, pass, 'float64'),
        ortForward: NaN,
        tfWasm: NaN,
        tfCpu: NaN,
      });
    }
  }
  const ortTwoThreads: string[] = [];
  for (const shape of SHAPES) {
    const one = await timeOnnx(shape.geometry, 1, BUDGET);
    if (typeof one === 'string') {
      console.log(`ONNX Runtime not run: ${one}`);
      break;
    }
    for (const row of rows) if (row.shape === shape) row.ortForward = gflops(shape, one);
    const two = await timeOnnx(shape.geometry, 2, BUDGET);
    if (typeof two === 'number') ortTwoThreads.push(`${shape.name.split(' ')[0]} ${fmt(gflops(shape, two))}`);
  }
  for (const backend of ['wasm', 'cpu'] as const) {
    await useBackend(backend);
    for (const row of rows) {
      if (row.pass === 'grad-parameters') continue;
      const g = gflops(row.shape, timeTf(row.shape.geometry, row.pass, BUDGET));
      if (backend === 'wasm') row.tfWasm = g;
      else row.tfCpu = g;
    }
  }
  const forwardOf = (r: Row) => rows.find((x) => x.shape === r.shape && x.pass === 'forward')!.wasm;
  console.log(
    `GFLOP/s, one thread, best of repeated runs (budget ${BUDGET} ms per cell); tfjs grad-input = its conv2d\n`,
  );
  console.log(
    table(
      [
        'shape',
        'pass',
        'ours TS',
        'ours WASM',
        'tfjs-wasm',
        'tfjs-cpu',
        'WASM/tfjs-wasm',
        'WASM/TS',
        'f64/f32',
        'vs our fwd',
      ],
      rows.map((r) => [
        r.shape.name,
        r.pass,
        fmt(r.ts),
        fmt(r.wasm),
        fmt(r.tfWasm),
        fmt(r.tfCpu),
        ratio(r.wasm / r.tfWasm),
        ratio(r.wasm / r.ts),
        ratio(r.wasm64 / r.wasm),
        ratio(r.wasm / forwardOf(r)),
      ]),
    ),
  );
  console.log('\nnative (OpenBLAS, one thread) next to WASM, GFLOP/s\n');
  console.log(
    table(
      [
        'shape',
        'pass',
        'native f32',
        'WASM f32',
        'native/WASM',
        'native f64',
        'WASM f64',
        'native f64/f32',
        'ORT fwd 1 thr',
        'native/ORT fwd',
      ],
      rows.map((r) => [
        r.shape.name,
        r.pass,
        fmt(r.native),
        fmt(r.wasm),
        ratio(r.native / r.wasm),
        fmt(r.native64),
        fmt(r.wasm64),
        ratio(r.native64 / r.native),
        fmt(r.ortForward),
        ratio(r.native / r.ortForward),
      ]),
    ),
  );
  if (ortTwoThreads.length > 0)
    console.log(`\nONNX Runtime forward on 2 threads, GFLOP/s: ${ortTwoThreads.join('; ')}`);
  console.log(
    `\nour WASM float64 GFLOP/s: ${rows.map((r) => `${r.shape.name.split(' ')[0]} ${r.pass} ${fmt(r.wasm64)}`).join('; ')}`,
  );
}

await main();
