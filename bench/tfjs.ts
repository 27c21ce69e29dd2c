/**
 * The tfjs baselines (devDependencies of the benchmark only): tfjs-backend-wasm (XNNPACK, SIMD,
 * one thread in Node) and tfjs-backend-cpu (plain JS), on the same layer in NHWC.
 * forward = conv2dTranspose; grad-input = conv2d of gradOutput with the same filter, which is
 * exactly the transposed convolution's input gradient.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import type { ConvGeometry } from '../workers/geometry.js';
import { bestMs } from './timing.js';

export type TfBackend = 'wasm' | 'cpu';
export type TfPass = 'forward' | 'grad-input';

const require = createRequire(import.meta.url);
setWasmPaths(`${join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist')}/`);

export async function useBackend(backend: TfBackend): Promise<void> {
  if (!(await tf.setBackend(backend))) throw new Error(`tfjs backend ${backend} failed to start`);
  await tf.ready();
}

/** Best time in ms of one pass on the current backend. */
export function timeTf(g: ConvGeometry, pass: TfPass, budgetMs: number): number {
  const filter = tf.randomUniform([g.kH, g.kW, g.outChannels, g.inChannels], -1, 1, 'float32');
  const input = tf.randomUniform([g.batch, g.inH, g.inW, g.inChannels], -1, 1, 'float32');
  const gradOutput = tf.randomUniform([g.batch, g.outH, g.outW, g.outChannels], -1, 1, 'float32');
  const outShape: [number, number, number, number] = [g.batch, g.outH, g.outW, g.outChannels];
  const run = () => {
    const y =
      pass === 'forward'
        ? tf.conv2dTranspose(input as tf.Tensor4D, filter as tf.Tensor4D, outShape, [g.sH, g.sW], g.pH)
        : tf.conv2d(gradOutput as tf.Tensor4D, filter as tf.Tensor4D, [g.sH, g.sW], g.pH);
    y.dataSync();
    y.dispose();
  };
  try {
    return bestMs(run, budgetMs);
  } finally {
    tf.dispose([filter, input, gradOutput]);
  }
}
