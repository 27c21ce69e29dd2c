import type { ConvGeometry, FloatArray } from '../workers/geometry.js';
import type { ResultName, Task, TaskResult, TensorName } from '../workers/tasks.js';
import type { Values } from './tensor/pieces.js';

/**
 * How one large conv task is shared by several workers, as pure data: the part tasks (each with
 * buffers of its own, so each can be moved to its worker) and how their results combine.
 *
 * - batch >= 2: the samples are shared out; per-sample tensors are sliced, weight and bias copied
 *   to every part (a stored layer's, in shared memory, referenced by every part instead), per-sample results are the parts' pieces in order, and gradWeight / gradBias
 *   (partial sums over each part's samples) are added up. A given gradWeight / gradBias goes to
 *   the first part only, so it is accumulated once.
 * - batch 1, groups 1: the channels of the result are shared out (output channels for forward and
 *   grad-parameters, input channels for grad-input); the tensors are sliced along that channel
 *   axis, and so are the results: pieces in order where the channels are the outermost axis,
 *   else put back in place in one array.
 *
 * Tasks under `minMacs` multiply-adds, im2col / col2im, and backward with batch 1 stay whole:
 * for them the split's copies and the extra round trips cost more than a second core saves.
 */
export interface Split {
  readonly parts: Task[];
  merge(results: readonly TaskResult[]): Partial<Record<ResultName, Values>>;
}

/** About half a millisecond of kernel time: below it one worker answers sooner than two. */
export const SPLIT_MIN_MACS = 2 ** 22;

type ConvPass = 'forward' | 'grad-input' | 'grad-parameters' | 'backward';

export function macs(g: ConvGeometry): number {
  return g.batch * (g.inChannels / g.groups) * g.outChannels * g.kH * g.kW * g.inH * g.inW;
}

/** Elements of a conv task's input, output and weight: what it reads and writes besides its scratch (which `macs` bounds). */
export function elements(g: ConvGeometry): number {
  return (
    g.batch * (g.inChannels * g.inH * g.inW + g.outChannels * g.outH * g.outW) +
    (g.inChannels / g.groups) * g.outChannels * g.kH * g.kW
  );
}

/** Balanced ranges [start, start + count) covering `total` in `parts` pieces, none empty. */
export function ranges(total: number, parts: number): { start: number; count: number }[] {
  const n = Math.min(parts, total);
  return Array.from({ length: n }, (_, i) => {
    const start = Math.floor((i * total) / n);
    return { start, count: Math.floor(((i + 1) * total) / n) - start };
  });
}

export function planSplit(task: Task, workers: number, minMacs = SPLIT_MIN_MACS): Split | null {
  const g = task.geometry;
  if (workers < 2 || !('kind' in g) || macs(g) < minMacs) return null;
  const pass = task.op.slice(task.op.indexOf('/') + 1) as ConvPass;
  if (g.batch >= 2) return batchSplit(task, g, workers);
  if (g.groups === 1 && pass !== 'backward' && !copiesShared(task, g, pass))
    return channelSplit(task, g, pass, workers);
  return null;
}

/**
 * Whether a channel split would copy a stored tensor: its channels are not its outer axis (a
 * transposed convolution's weight split by output channels). Such a task runs whole rather than
 * copy a stored weight per request.
 */
function copiesShared(task: Task, g: ConvGeometry, pass: Exclude<ConvPass, 'backward'>): boolean {
  const { axes } = channelPlan(g.kind, pass);
  return (Object.entries(task.tensors) as [TensorName, FloatArray | undefined][]).some(
    ([name, t]) =>
      t !== undefined && t !== null && isShared(t) && axes[name] !== undefined && axes[name]!(g).outer !== 1,
  );
}

// ---- tensors as [outer, axis, inner] blocks --------------------------------------------------

/** A tensor seen as `outer` blocks of `axis` slices of `inner` contiguous elements. */
interface Axis {
  readonly outer: number;
  readonly axis: number;
  readonly inner: number;
}

/** Whether `t` is a stored layer's tensor, in memory every thread shares (src/models/layer.ts). */
export const isShared = (t: FloatArray): boolean => t.buffer instanceof SharedArrayBuffer;

function slice(t: FloatArray, a: Axis, start: number, count: number): FloatArray {
  // A contiguous slice of shared memory is a view: a stored weight is never copied for a part.
  if (a.outer === 1 && isShared(t)) return t.subarray(start * a.inner, (start + count) * a.inner);
  const out =
    t instanceof Float32Array
      ? new Float32Array(a.outer * count * a.inner)
      : new Float64Array(a.outer * count * a.inner);
  for (let o = 0; o < a.outer; o++) {
    const from = (o * a.axis + start) * a.inner;
    out.set(t.subarray(from, from + count * a.inner), o * count * a.inner);
  }
  return out;
}

function place(into: FloatArray, a: Axis, start: number, part: FloatArray): void {
  const count = part.length / (a.outer * a.inner);
  for (let o = 0; o < a.outer; o++) {
    into.set(part.subarray(o * count * a.inner, (o + 1) * count * a.inner), (o * a.axis + start) * a.inner);
  }
}

/** A tensor for a part of its own: moved buffers cannot be shared, shared memory needs no copy. */
const copy = (t: FloatArray): FloatArray => (isShared(t) ? t : t.slice());

function allocateLike(t: FloatArray, length: number): FloatArray {
  return t instanceof Float32Array ? new Float32Array(length) : new Float64Array(length);
}

const inPlane = (g: ConvGeometry) => g.inH * g.inW;
const outPlane = (g: ConvGeometry) => g.outH * g.outW;
const kernelArea = (g: ConvGeometry) => g.kH * g.kW;

/** The per-sample tensors by their sample axis: what a batch split slices. */
const sampleAxis: Partial<Record<TensorName, (g: ConvGeometry) => Axis>> = {
  input: (g) => ({ outer: 1, axis: g.batch, inner: g.inChannels * inPlane(g) }),
  gradOutput: (g) => ({ outer: 1, axis: g.batch, inner: g.outChannels * outPlane(g) }),
};

/** Results that are sums over the batch: each part returns its own partial sum. */
const SUMMED: readonly ResultName[] = ['gradWeight', 'gradBias'];

function batchSplit(task: Task, g: ConvGeometry, workers: number): Split {
  const pieces = ranges(g.batch, workers);
  const parts = pieces.map(({ start, count }, i): Task => {
    const tensors: Task['tensors'] = {};
    for (const [name, t] of Object.entries(task.tensors) as [TensorName, FloatArray | undefined][]) {
      if (t === undefined || t === null) continue;
      const axis = sampleAxis[name];
      if (axis !== undefined) tensors[name] = slice(t, axis(g), start, count);
      else if (name === 'gradWeight' || name === 'gradBias') {
        if (i === 0) tensors[name] = t;
      } else tensors[name] = i === 0 ? t : copy(t);
    }
    return { ...task, geometry: { ...g, batch: count }, tensors };
  });
  return {
    parts,
    merge(results) {
      const merged: Partial<Record<ResultName, Values>> = {};
      for (const name of Object.keys(results[0]) as ResultName[]) {
        const first = results[0][name]!;
        if (SUMMED.includes(name)) {
          for (const r of results.slice(1)) {
            const partial = r[name]!;
            for (let j = 0; j < first.length; j++) first[j] += partial[j];
          }
          merged[name] = first;
        } else {
          merged[name] = results.map((r) => r[name]!);
        }
      }
      return merged;
    },
  };
}

/**
 * Batch 1, groups 1: which channels a pass shares out, and each tensor's and result's axis of
 * those channels (tensors without an entry go whole to every part). Weight layouts:
 * conv2d [outC, inC, kH, kW], conv-transpose2d [inC, outC, kH, kW].
 */
interface ChannelSplit {
  readonly channels: 'inChannels' | 'outChannels';
  readonly axes: Partial<Record<TensorName | ResultName, (g: ConvGeometry) => Axis>>;
}

const outChannelsOf = (g: ConvGeometry) => ({ outer: 1, axis: g.outChannels, inner: outPlane(g) });
const inChannelsOf = (g: ConvGeometry) => ({ outer: 1, axis: g.inChannels, inner: inPlane(g) });
const weightRows = (channels: 'inChannels' | 'outChannels') => (g: ConvGeometry) => ({
  outer: 1,
  axis: g[channels],
  inner: g[channels === 'inChannels' ? 'outChannels' : 'inChannels'] * kernelArea(g),
});
const weightColumns = (channels: 'inChannels' | 'outChannels') => (g: ConvGeometry) => ({
  outer: g[channels === 'inChannels' ? 'outChannels' : 'inChannels'],
  axis: g[channels],
  inner: kernelArea(g),
});
const biasOf = (g: ConvGeometry) => ({ outer: 1, axis: g.outChannels, inner: 1 });

function channelPlan(kind: ConvGeometry['kind'], pass: Exclude<ConvPass, 'backward'>): ChannelSplit {
  // The weight's first axis is outChannels for conv2d and inChannels for conv-transpose2d.
  const weightAxis = (channels: 'inChannels' | 'outChannels') =>
    (kind === 'conv2d') === (channels === 'outChannels') ? weightRows(channels) : weightColumns(channels);
  switch (pass) {
    case 'forward':
      return {
        channels: 'outChannels',
        axes: { weight: weightAxis('outChannels'), bias: biasOf, output: outChannelsOf },
      };
    case 'grad-input':
      return { channels: 'inChannels', axes: { weight: weightAxis('inChannels'), gradInput: inChannelsOf } };
    case 'grad-parameters':
      return {
        channels: 'outChannels',
        axes: { gradOutput: outChannelsOf, gradWeight: weightAxis('outChannels'), gradBias: biasOf },
      };
  }
}

function channelSplit(task: Task, g: ConvGeometry, pass: Exclude<ConvPass, 'backward'>, workers: number): Split {
  const { channels, axes } = channelPlan(g.kind, pass);
  const pieces = ranges(g[channels], workers);
  const parts = pieces.map(({ start, count }, i): Task => {
    const tensors: Task['tensors'] = {};
    for (const [name, t] of Object.entries(task.tensors) as [TensorName, FloatArray | undefined][]) {
      if (t === undefined || t === null) continue;
      const axis = axes[name];
      tensors[name] = axis !== undefined ? slice(t, axis(g), start, count) : i === 0 ? t : copy(t);
    }
    return { ...task, geometry: { ...g, [channels]: count }, tensors };
  });
  return {
    parts,
    merge(results) {
      const merged: Partial<Record<ResultName, Values>> = {};
      for (const name of Object.keys(results[0]) as ResultName[]) {
        const axis = axes[name]!(g);
        if (axis.outer === 1) {
          merged[name] = results.map((r) => r[name]!);
          continue;
        }
        const whole = allocateLike(results[0][name]!, axis.outer * axis.axis * axis.inner);
        for (const [i, { start }] of pieces.entries()) place(whole, axis, start, results[i][name]!);
        merged[name] = whole;
      }
      return merged;
    },
  };
}
