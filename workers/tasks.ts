import type { ColumnsGeometry, ConvGeometry, Dtype, FloatArray } from './geometry.js';
import { col2imBatch } from './kernels/col2im.js';
import { scratchLength } from './kernels/columns-length.js';
import { convTranspose2dForward } from './kernels/conv-transpose2d-forward.js';
import { convTranspose2dGradInput } from './kernels/conv-transpose2d-grad-input.js';
import { convTranspose2dGradParameters } from './kernels/conv-transpose2d-grad-parameters.js';
import { conv2dForward } from './kernels/conv2d-forward.js';
import { conv2dGradInput } from './kernels/conv2d-grad-input.js';
import { conv2dGradParameters } from './kernels/conv2d-grad-parameters.js';
import { im2colBatch } from './kernels/im2col.js';
import { columnsLength, imageLength } from './kernels/sample-columns.js';
import { scratch } from './scratch.js';

export type OpName =
  | 'conv-transpose2d/forward'
  | 'conv-transpose2d/grad-input'
  | 'conv-transpose2d/grad-parameters'
  | 'conv-transpose2d/backward'
  | 'conv2d/forward'
  | 'conv2d/grad-input'
  | 'conv2d/grad-parameters'
  | 'conv2d/backward'
  | 'im2col'
  | 'col2im';

export type TensorName = 'input' | 'weight' | 'bias' | 'gradOutput' | 'gradWeight' | 'gradBias' | 'columns';
export type ResultName = 'output' | 'gradInput' | 'gradWeight' | 'gradBias' | 'columns';
export type TaskResult = Partial<Record<ResultName, FloatArray>>;

export interface Task {
  op: OpName;
  /** ConvGeometry for the conv ops, ColumnsGeometry for im2col / col2im. */
  geometry: ConvGeometry | ColumnsGeometry;
  dtype: Dtype;
  /** Inputs by their API field names. */
  tensors: Partial<Record<TensorName, FloatArray>>;
  /** grad-parameters / backward: factor on gradWeight and gradBias, default 1. */
  scale?: number;
  /** grad-parameters / backward: whether to produce gradBias, default true. */
  computeBias?: boolean;
}

/**
 * Runs one validated request in this worker: allocates the results in the task's dtype, runs the
 * kernel with this thread's scratch buffer and returns the results by their API names.
 * grad-parameters accumulates into a given gradWeight / gradBias in place and returns those very
 * arrays (THNN's beta = 1 contract); backward always starts from zero.
 */
export function runTask(task: Task): TaskResult {
  return handlers[task.op](task);
}

type Kind = ConvGeometry['kind'];

const kernels = {
  'conv-transpose2d': {
    forward: convTranspose2dForward,
    gradInput: convTranspose2dGradInput,
    gradParameters: convTranspose2dGradParameters,
  },
  conv2d: { forward: conv2dForward, gradInput: conv2dGradInput, gradParameters: conv2dGradParameters },
} as const;

const handlers: Record<OpName, (task: Task) => TaskResult> = {
  'conv-transpose2d/forward': (task) => forward(task, 'conv-transpose2d'),
  'conv-transpose2d/grad-input': (task) => gradInput(task, 'conv-transpose2d'),
  'conv-transpose2d/grad-parameters': (task) => gradParameters(task, 'conv-transpose2d'),
  'conv-transpose2d/backward': (task) => backward(task, 'conv-transpose2d'),
  'conv2d/forward': (task) => forward(task, 'conv2d'),
  'conv2d/grad-input': (task) => gradInput(task, 'conv2d'),
  'conv2d/grad-parameters': (task) => gradParameters(task, 'conv2d'),
  'conv2d/backward': (task) => backward(task, 'conv2d'),
  im2col: (task) => {
    const g = columnsGeometry(task);
    const columns = allocate(task.dtype, g.batch * columnsLength(g));
    im2colBatch(g, required(task, 'input', g.batch * imageLength(g)), columns);
    return { columns };
  },
  col2im: (task) => {
    const g = columnsGeometry(task);
    const output = allocate(task.dtype, g.batch * imageLength(g));
    col2imBatch(g, required(task, 'columns', g.batch * columnsLength(g)), output);
    return { output };
  },
};

function forward(task: Task, kind: Kind): TaskResult {
  const g = convGeometry(task, kind);
  const output = allocate(task.dtype, outputLength(g));
  kernels[kind].forward(
    g,
    required(task, 'input', inputLength(g)),
    required(task, 'weight', weightLength(g)),
    optional(task, 'bias', g.outChannels),
    output,
    scratch(task.dtype, scratchLength(g)),
  );
  return { output };
}

function gradInput(task: Task, kind: Kind): TaskResult {
  const g = convGeometry(task, kind);
  const result = allocate(task.dtype, inputLength(g));
  kernels[kind].gradInput(
    g,
    required(task, 'gradOutput', outputLength(g)),
    required(task, 'weight', weightLength(g)),
    result,
    scratch(task.dtype, scratchLength(g)),
  );
  return { gradInput: result };
}

function gradParameters(task: Task, kind: Kind, startFrom: 'given' | 'zero' = 'given'): TaskResult {
  const g = convGeometry(task, kind);
  const start = (name: 'gradWeight' | 'gradBias', length: number): FloatArray =>
    (startFrom === 'given' ? optional(task, name, length) : null) ?? allocate(task.dtype, length);
  const gradWeight = start('gradWeight', weightLength(g));
  const gradBias = (task.computeBias ?? true) ? start('gradBias', g.outChannels) : null;
  kernels[kind].gradParameters(
    g,
    required(task, 'input', inputLength(g)),
    required(task, 'gradOutput', outputLength(g)),
    gradWeight,
    gradBias,
    task.scale ?? 1,
    scratch(task.dtype, scratchLength(g)),
  );
  return gradBias === null ? { gradWeight } : { gradWeight, gradBias };
}

function backward(task: Task, kind: Kind): TaskResult {
  return { ...gradInput(task, kind), ...gradParameters(task, kind, 'zero') };
}

const inputLength = (g: ConvGeometry): number => g.batch * g.inChannels * g.inH * g.inW;
const outputLength = (g: ConvGeometry): number => g.batch * g.outChannels * g.outH * g.outW;
const weightLength = (g: ConvGeometry): number => ((g.inChannels * g.outChannels) / g.groups) * g.kH * g.kW;

function allocate(dtype: Dtype, length: number): FloatArray {
  return dtype === 'float32' ? new Float32Array(length) : new Float64Array(length);
}

// The checks below guard the thread boundary: a task that breaks them is a bug upstream, and
// failing loudly beats typed arrays quietly reading undefined as NaN.

function convGeometry(task: Task, kind: Kind): ConvGeometry {
  const g = task.geometry;
  if (!('kind' in g) || g.kind !== kind) throw new TypeError(`${task.op} needs a ${kind} geometry`);
  return g;
}

function columnsGeometry(task: Task): ColumnsGeometry {
  const g = task.geometry;
  if ('kind' in g) throw new TypeError(`${task.op} needs a columns geometry`);
  return g;
}

function required(task: Task, name: TensorName, length: number): FloatArray {
  const tensor = optional(task, name, length);
  if (tensor === null) throw new TypeError(`${task.op} needs tensors.${name}`);
  return tensor;
}

function optional(task: Task, name: TensorName, length: number): FloatArray | null {
  const tensor = task.tensors[name];
  if (tensor === undefined || tensor === null) return null;
  const expected = task.dtype === 'float32' ? Float32Array : Float64Array;
  if (!(tensor instanceof expected)) throw new TypeError(`tensors.${name} is not a ${expected.name}`);
  if (tensor.length !== length) {
    throw new RangeError(`tensors.${name} has ${tensor.length} elements, its geometry needs ${length}`);
  }
  return tensor;
}
