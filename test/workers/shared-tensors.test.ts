/**
 * A stored layer's weight and bias live in SharedArrayBuffer memory (src/models/layer.ts) and
 * reach the kernels as they are. Every GEMM variant this runtime offers (the native addon among
 * them, where it builds) must read such arrays as it reads ordinary ones: the same bits out.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { offeredVariants, selectVariant } from '../../workers/gemm/registry.js';
import type { FloatArray } from '../../workers/geometry.js';
import { type OpName, runTask, type Task } from '../../workers/tasks.js';
import {
  conv2dGeometry,
  convTranspose2dGeometry,
  inputLength,
  outputLength,
  weightLength,
} from './helpers/geometry.js';
import { random } from './helpers/tensors.js';

const shared = (t: FloatArray): FloatArray => {
  const out =
    t instanceof Float32Array
      ? new Float32Array(new SharedArrayBuffer(t.byteLength))
      : new Float64Array(new SharedArrayBuffer(t.byteLength));
  out.set(t);
  return out;
};

after(() => selectVariant());

describe('shared-memory weights', () => {
  for (const variant of offeredVariants()) {
    it(`${variant.name} (${variant.family}) computes the same bits from a shared weight and bias as from ordinary ones`, () => {
      selectVariant(variant.name);
      const dtype = variant.dtype;
      const spec = {
        kH: 4,
        kW: 4,
        sH: 2,
        sW: 2,
        pH: 1,
        pW: 1,
        dH: 1,
        dW: 1,
        batch: 2,
        groups: 1,
        inChannels: 6,
        outChannels: 5,
        inH: 7,
        inW: 6,
      };
      for (const g of [convTranspose2dGeometry({ ...spec, aH: 0, aW: 0 }), conv2dGeometry(spec)]) {
        const input = random(dtype, inputLength(g), 1);
        const weight = random(dtype, weightLength(g), 2);
        const bias = random(dtype, g.outChannels, 3);
        const gradOutput = random(dtype, outputLength(g), 4);
        for (const [pass, tensors] of [
          ['forward', { input, weight, bias }],
          ['grad-input', { gradOutput, weight }],
        ] as const) {
          const op = `${g.kind}/${pass}` as OpName;
          const plain = runTask({ op, geometry: g, dtype, tensors: { ...tensors } } as Task);
          const stored: Task['tensors'] = {
            ...tensors,
            weight: shared(weight),
            ...('bias' in tensors ? { bias: shared(bias) } : {}),
          };
          const got = runTask({ op, geometry: g, dtype, tensors: stored } as Task);
          for (const [name, want] of Object.entries(plain))
            assert.deepEqual(got[name as keyof typeof got], want, `${g.kind} ${pass} ${name}`);
        }
      }
    });
  }
});
