/**
 * ONNX Runtime's ConvTranspose on a bench layer, in-process, for `npm run bench`. onnxruntime-node
 * lives in bench/onnx/ (its own package.json, installed here with --ignore-scripts on first use)
 * and not in the project's dependencies: its install script fails offline. Where it cannot be
 * installed or loaded, the bench prints one line and leaves its column empty.
 *
 * The model is written here as ONNX protobuf bytes by a few lines of wire-format encoding: one
 * ConvTranspose node, input, weight and bias as graph inputs, opset 17.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import type { ConvGeometry } from '../workers/geometry.js';
import { inputLength, randomArray, weightLength } from './shapes.js';

const DIR = resolve('bench', 'onnx');

interface Ort {
  InferenceSession: { create(model: Uint8Array, options: object): Promise<Session> };
  Tensor: new (type: 'float32' | 'float64', data: Float32Array | Float64Array, dims: number[]) => unknown;
}
interface Session {
  run(feeds: Record<string, unknown>): Promise<unknown>;
  release(): Promise<void>;
}

let ort: Ort | string | undefined;

/** The runtime, or why it is not there. */
export function onnxRuntime(): Ort | string {
  if (ort !== undefined) return ort;
  const entry = join(DIR, 'node_modules', 'onnxruntime-node');
  if (!existsSync(entry)) {
    const r = spawnSync('npm', ['install', '--ignore-scripts', '--no-audit', '--no-fund', '--silent'], {
      cwd: DIR,
      encoding: 'utf8',
      timeout: 300_000,
    });
    if (r.status !== 0) return (ort = `npm install in bench/onnx failed: ${(r.stderr ?? '').trim().split('\n').pop()}`);
  }
  try {
    ort = createRequire(join(DIR, 'package.json'))('onnxruntime-node') as Ort;
  } catch (err) {
    ort = `onnxruntime-node does not load: ${err instanceof Error ? err.message : String(err)}`;
  }
  return ort;
}

// Protobuf wire format: just what ModelProto needs.
const varint = (n: number): number[] => {
  const out: number[] = [];
  let v = BigInt(n);
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) byte |= 0x80;
    out.push(byte);
  } while (v > 0n);
  return out;
};
const key = (field: number, wire: number): number[] => varint((field << 3) | wire);
const int = (field: number, n: number): number[] => [...key(field, 0), ...(n === 0 ? [0] : varint(n))];
const bytes = (field: number, body: number[]): number[] => [...key(field, 2), ...varint(body.length), ...body];
const str = (field: number, s: string): number[] => bytes(field, [...Buffer.from(s, 'utf8')]);

const tensorType = (elemType: number, dims: number[]): number[] =>
  bytes(1, [
    ...int(1, elemType),
    ...bytes(
      2,
      dims.flatMap((d) => bytes(1, int(1, d))),
    ),
  ]);
const valueInfo = (name: string, elemType: number, dims: number[]): number[] => [
  ...str(1, name),
  ...bytes(2, tensorType(elemType, dims)),
];
const ints = (name: string, values: number[]): number[] =>
  bytes(5, [...str(1, name), ...values.flatMap((v) => int(8, v)), ...int(20, 7)]);

/** A ModelProto computing conv_transpose2d(X, W, B) on the geometry. */
export function convTransposeModel(g: ConvGeometry, dtype: 'float32' | 'float64'): Uint8Array {
  const elem = dtype === 'float32' ? 1 : 11;
  const node = [
    ...str(1, 'X'),
    ...str(1, 'W'),
    ...str(1, 'B'),
    ...str(2, 'Y'),
    ...str(3, 'deconv'),
    ...str(4, 'ConvTranspose'),
    ...ints('strides', [g.sH, g.sW]),
    ...ints('pads', [g.pH, g.pW, g.pH, g.pW]),
    ...ints('kernel_shape', [g.kH, g.kW]),
    ...ints('dilations', [g.dH, g.dW]),
  ];
  const graph = [
    ...bytes(1, node),
    ...str(2, 'layer'),
    ...bytes(11, valueInfo('X', elem, [g.batch, g.inChannels, g.inH, g.inW])),
    ...bytes(11, valueInfo('W', elem, [g.inChannels, g.outChannels / g.groups, g.kH, g.kW])),
    ...bytes(11, valueInfo('B', elem, [g.outChannels])),
    ...bytes(12, valueInfo('Y', elem, [g.batch, g.outChannels, g.outH, g.outW])),
  ];
  return Uint8Array.from([...int(1, 8), ...bytes(8, [...str(1, ''), ...int(2, 17)]), ...bytes(7, graph)]);
}

/** Best time (ms) of ONNX Runtime's forward on `threads` intra-op threads, or a reason it did not run. */
export async function timeOnnx(
  g: ConvGeometry,
  threads: number,
  budgetMs: number,
  dtype: 'float32' | 'float64' = 'float32',
): Promise<number | string> {
  const rt = onnxRuntime();
  if (typeof rt === 'string') return rt;
  const session = await rt.InferenceSession.create(convTransposeModel(g, dtype), {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  const F = (dtype === 'float32' ? Float32Array : Float64Array) as new (n: number) => Float32Array | Float64Array;
  const feeds = {
    X: new rt.Tensor(dtype, randomArray(F, inputLength(g), 1), [g.batch, g.inChannels, g.inH, g.inW]),
    W: new rt.Tensor(dtype, randomArray(F, weightLength(g), 2), [g.inChannels, g.outChannels / g.groups, g.kH, g.kW]),
    B: new rt.Tensor(dtype, randomArray(F, g.outChannels, 3), [g.outChannels]),
  };
  try {
    await session.run(feeds);
    let best = Infinity;
    const start = performance.now();
    for (let run = 0; run < 50 && (run < 3 || performance.now() - start < budgetMs); run++) {
      const t0 = performance.now();
      await session.run(feeds);
      best = Math.min(best, performance.now() - t0);
    }
    return best;
  } finally {
    await session.release();
  }
}
