import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { macs, planSplit, ranges, SPLIT_MIN_MACS } from '../../src/split.js';
import { joined, type Values } from '../../src/tensor/pieces.js';
import type { ConvGeometry, Dtype, FloatArray } from '../../workers/geometry.js';
import { type OpName, type ResultName, runTask, type Task, type TaskResult } from '../../workers/tasks.js';
import {
  conv2dGeometry,
  convTranspose2dGeometry,
  inputLength,
  outputLength,
  weightLength,
} from '../workers/helpers/geometry.js';
import { assertClose, random, tolerance } from '../workers/helpers/tensors.js';

const window = { kH: 3, kW: 2, sH: 2, sW: 1, pH: 1, pW: 0, dH: 1, dW: 2 };

function geometry(kind: ConvGeometry['kind'], batch: number): ConvGeometry {
  const spec = { ...window, batch, groups: 1, inChannels: 5, outChannels: 7, inH: 6, inW: 7 };
  return kind === 'conv2d' ? conv2dGeometry(spec) : convTranspose2dGeometry({ ...spec, aH: 1, aW: 0 });
}

type Pass = 'forward' | 'grad-input' | 'grad-parameters' | 'backward';

/** A task of `pass` with seeded tensors; grad-parameters accumulates into given buffers, with a scale. */
function makeTask(g: ConvGeometry, pass: Pass, dtype: Dtype, computeBias = true): Task {
  const input = random(dtype, inputLength(g), 1);
  const weight = random(dtype, weightLength(g), 2);
  const gradOutput = random(dtype, outputLength(g), 3);
  const bias = random(dtype, g.outChannels, 4);
  const tensors: Task['tensors'] = {
    forward: { input, weight, bias },
    'grad-input': { gradOutput, weight },
    'grad-parameters': {
      input,
      gradOutput,
      gradWeight: random(dtype, weightLength(g), 5),
      ...(computeBias ? { gradBias: random(dtype, g.outChannels, 6) } : {}),
    },
    backward: { input, gradOutput, weight },
  }[pass];
  return { op: `${g.kind}/${pass}` as OpName, geometry: g, dtype, tensors, scale: 0.5, computeBias };
}

/** A deep copy, so the whole run and the split run start from equal, unshared buffers. */
const cloneTask = (t: Task): Task => ({
  ...t,
  tensors: Object.fromEntries(Object.entries(t.tensors).map(([k, v]) => [k, (v as FloatArray).slice()])),
});

function assertSameResults(got: Partial<Record<ResultName, Values>>, want: TaskResult, dtype: Dtype): void {
  assert.deepEqual(Object.keys(got).sort(), Object.keys(want).sort());
  for (const [name, w] of Object.entries(want)) {
    const g = joined(got[name as ResultName]!);
    assert.ok(g instanceof (dtype === 'float32' ? Float32Array : Float64Array), `${name} dtype`);
    assertClose(g, w, tolerance[dtype] * 10, name);
  }
}

describe('planSplit', () => {
  it('keeps a task whole on one worker, under the threshold, for im2col / col2im, and for batch-1 backward or grouped convs', () => {
    const big = geometry('conv2d', 4);
    assert.equal(planSplit(makeTask(big, 'forward', 'float32'), 1, 0), null, 'one worker');
    assert.equal(planSplit(makeTask(big, 'forward', 'float32'), 2, macs(big) + 1), null, 'under the threshold');
    assert.ok(SPLIT_MIN_MACS > macs(big), 'the default threshold keeps small requests whole');
    assert.equal(planSplit(makeTask(big, 'forward', 'float32'), 2), null);
    const columns = { batch: 4, channels: 2, height: 5, width: 5, colH: 3, colW: 3, ...window, kW: 3, dW: 1, sW: 1 };
    assert.equal(planSplit({ op: 'im2col', geometry: columns, dtype: 'float32', tensors: {} }, 2, 0), null);
    assert.equal(planSplit(makeTask(geometry('conv2d', 1), 'backward', 'float32'), 2, 0), null);
    const grouped = conv2dGeometry({ ...window, batch: 1, groups: 2, inChannels: 4, outChannels: 6, inH: 6, inW: 7 });
    assert.equal(planSplit({ op: 'conv2d/forward', geometry: grouped, dtype: 'float32', tensors: {} }, 2, 0), null);
  });

  it('shares a batch out by samples and a single sample by channels, one part per worker at most', () => {
    assert.equal(planSplit(makeTask(geometry('conv2d', 4), 'forward', 'float32'), 2, 0)!.parts.length, 2);
    assert.equal(planSplit(makeTask(geometry('conv2d', 3), 'forward', 'float32'), 8, 0)!.parts.length, 3);
    const batches = planSplit(makeTask(geometry('conv-transpose2d', 5), 'grad-input', 'float32'), 2, 0)!.parts.map(
      (p) => (p.geometry as ConvGeometry).batch,
    );
    assert.deepEqual(batches, [2, 3]);
    const channels = planSplit(makeTask(geometry('conv2d', 1), 'forward', 'float32'), 3, 0)!.parts.map(
      (p) => (p.geometry as ConvGeometry).outChannels,
    );
    assert.deepEqual(channels, [2, 2, 3]);
    const inChannels = planSplit(makeTask(geometry('conv2d', 1), 'grad-input', 'float32'), 2, 0)!.parts.map(
      (p) => (p.geometry as ConvGeometry).inChannels,
    );
    assert.deepEqual(inChannels, [2, 3]);
  });

  it('gives every part buffers of its own, so each can be moved to its worker', () => {
    for (const pass of ['forward', 'grad-parameters'] as const) {
      for (const batch of [1, 4]) {
        const split = planSplit(makeTask(geometry('conv-transpose2d', batch), pass, 'float32'), 3, 0)!;
        const buffers = split.parts.flatMap((p) => Object.values(p.tensors).map((t) => (t as FloatArray).buffer));
        assert.equal(new Set(buffers).size, buffers.length, `${pass} batch ${batch}`);
      }
    }
  });

  it("shares a stored layer's tensors (shared memory) with every part: referenced or viewed, never copied", () => {
    const toShared = (t: FloatArray): FloatArray => {
      const out = new Float32Array(new SharedArrayBuffer(t.byteLength));
      out.set(t);
      return out;
    };
    for (const kind of ['conv2d', 'conv-transpose2d'] as const) {
      const task = makeTask(geometry(kind, 4), 'forward', 'float32');
      const weight = toShared(task.tensors.weight!);
      const bias = toShared(task.tensors.bias!);
      const whole = runTask(cloneTask(task));
      const split = planSplit({ ...task, tensors: { ...task.tensors, weight, bias } }, 3, 0)!;
      for (const part of split.parts) {
        assert.equal(part.tensors.weight, weight, `${kind}: the part holds the stored weight itself`);
        assert.equal(part.tensors.bias, bias);
      }
      assertSameResults(split.merge(split.parts.map((p) => runTask(p))), whole, 'float32');
    }
    // conv2d's weight rows are its output channels: a part's rows are a view of the stored weight.
    const one = makeTask(geometry('conv2d', 1), 'forward', 'float32');
    const weight = toShared(one.tensors.weight!);
    const split = planSplit({ ...one, tensors: { ...one.tensors, weight } }, 2, 0)!;
    for (const part of split.parts) assert.equal(part.tensors.weight!.buffer, weight.buffer);
    // A transposed weight's output channels are an inner axis: such a split would copy, so none is made.
    const t = makeTask(geometry('conv-transpose2d', 1), 'forward', 'float32');
    assert.equal(planSplit({ ...t, tensors: { ...t.tensors, weight: toShared(t.tensors.weight!) } }, 2, 0), null);
  });

  for (const kind of ['conv2d', 'conv-transpose2d'] as const) {
    for (const pass of ['forward', 'grad-input', 'grad-parameters', 'backward'] as const) {
      for (const batch of pass === 'backward' ? [2, 5] : [1, 2, 5]) {
        it(`${kind}/${pass}, batch ${batch}: the merged parts equal the whole task, for 2 and 3 workers and both dtypes`, () => {
          for (const dtype of ['float32', 'float64'] as const) {
            for (const workers of [2, 3]) {
              for (const computeBias of pass === 'grad-parameters' ? [true, false] : [true]) {
                const task = makeTask(geometry(kind, batch), pass, dtype, computeBias);
                const whole = runTask(cloneTask(task));
                const split = planSplit(cloneTask(task), workers, 0);
                assert.ok(split !== null);
                assertSameResults(split.merge(split.parts.map((p) => runTask(p))), whole, dtype);
              }
            }
          }
        });
      }
    }
  }
});

describe('Split.merge', () => {
  it("hands back a result split along its outermost axis as the parts' own arrays, in order, copying nothing", () => {
    for (const batch of [1, 4]) {
      const split = planSplit(makeTask(geometry('conv-transpose2d', batch), 'forward', 'float32'), 2, 0)!;
      const results = split.parts.map((p) => runTask(p));
      const merged = split.merge(results).output as readonly FloatArray[];
      assert.ok(Array.isArray(merged), `batch ${batch}: pieces`);
      assert.deepEqual(merged.length, 2);
      for (const [i, piece] of merged.entries())
        assert.equal(piece, results[i].output, `batch ${batch}: part ${i}'s own array`);
    }
  });

  it('puts a result split along an inner axis back in place in one array', () => {
    // conv-transpose2d weight [inC, outC, kH, kW]: grad-parameters shares out outC, its second axis.
    const split = planSplit(makeTask(geometry('conv-transpose2d', 1), 'grad-parameters', 'float32'), 2, 0)!;
    const merged = split.merge(split.parts.map((p) => runTask(p))).gradWeight;
    assert.ok(merged instanceof Float32Array);
  });
});

describe('ranges', () => {
  it('covers [0, total) in order with sizes differing by at most one, and never makes an empty range', () => {
    for (let total = 1; total <= 9; total++) {
      for (let parts = 1; parts <= 5; parts++) {
        const r = ranges(total, parts);
        assert.equal(r.length, Math.min(total, parts));
        let next = 0;
        for (const { start, count } of r) {
          assert.equal(start, next);
          assert.ok(count >= 1);
          next += count;
        }
        assert.equal(next, total);
        const sizes = r.map((x) => x.count);
        assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1);
      }
    }
  });
});
