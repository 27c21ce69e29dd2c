import type { FloatArray } from '../../workers/geometry.js';
import * as ops from '../ops/index.js';
import { OpError } from '../ops/index.js';
import type { ConvParams } from '../ops/types.js';
import type { Dtype } from '../schemas/tensor.js';
import { v2Text } from '../v2/names.js';
import { fixedParameters, type LayerConfig, type LayerKind, type LayerOp } from './layer-config.js';
import type { SafetensorsDtype, SafetensorsTensor } from './safetensors.js';

/**
 * A stored layer: one conv op with fixed parameters and its weight (and bias) held in memory
 * shared with the kernel threads. Requests reference the tensors; no task copies or moves them
 * (src/pool.ts leaves shared buffers out of a task's transfer list, src/split.ts shares them
 * with every part).
 */
export interface StoredLayer {
  readonly name: string;
  readonly op: LayerOp;
  readonly kind: LayerKind;
  readonly params: ConvParams;
  readonly dtype: Dtype;
  readonly weight: FloatArray;
  readonly weightShape: readonly number[];
  readonly bias: FloatArray | undefined;
  readonly inChannels: number;
  readonly outChannels: number;
  /** The /v2 infer parameters the layer fixes (`stride_h`, ..., `groups`). */
  readonly fixed: Readonly<Record<string, number>>;
  /** Bytes of its stored tensors. */
  readonly bytes: number;
}

export class LayerError extends Error {
  override readonly name = 'LayerError';
  constructor(
    readonly status: 400 | 413 | 422,
    message: string,
  ) {
    super(message);
  }
}

const DTYPE_OF: Readonly<Record<SafetensorsDtype, Dtype>> = { F32: 'float32', F64: 'float64' };

/** A stored tensor: its values copied once into a SharedArrayBuffer. */
export interface SharedTensor {
  readonly dtype: Dtype;
  readonly shape: readonly number[];
  readonly values: FloatArray;
}

/**
 * A file's tensor as a typed array in shared memory: a view of the file itself where the file is
 * in shared memory and the tensor's bytes are aligned for its type (as the reference writer pads
 * its header to make them), so a load holds its weights once; else a copy.
 */
export function shareTensor(t: SafetensorsTensor): SharedTensor {
  const dtype = DTYPE_OF[t.dtype];
  const size = dtype === 'float32' ? Float32Array.BYTES_PER_ELEMENT : Float64Array.BYTES_PER_ELEMENT;
  const { buffer, byteOffset, byteLength } = t.bytes;
  const [memory, at] =
    buffer instanceof SharedArrayBuffer && byteOffset % size === 0
      ? [buffer, byteOffset]
      : [new SharedArrayBuffer(byteLength), 0];
  if (memory !== buffer) new Uint8Array(memory).set(t.bytes);
  const length = byteLength / size;
  const values = dtype === 'float32' ? new Float32Array(memory, at, length) : new Float64Array(memory, at, length);
  return { dtype, shape: t.shape, values };
}

/** The tensor names a layer's file holds. */
export const LAYER_TENSORS = ['weight', 'bias'] as const;

/**
 * Checks a layer's tensors against its configuration with the ops' own rules: the forward plan
 * of a probe input large enough for any kernel and padding must succeed, so a weight that
 * groups do not divide, a bias of the wrong length or a rank other than 4 are refused here, in
 * the words a request would have got.
 */
function probe(kind: LayerKind, params: ConvParams, weight: SharedTensor, bias: SharedTensor | undefined): void {
  const [a, b, kH, kW] = weight.shape;
  const inChannels = kind === 'conv2d' ? b * params.groups : a;
  const size = (k: number, i: 0 | 1) => params.dilation[i] * k + 2 * params.padding[i] + 1;
  const input = [1, inChannels, size(kH, 0), size(kW, 1)];
  const limits = { maxElements: Number.MAX_SAFE_INTEGER, maxMacs: Number.MAX_SAFE_INTEGER };
  const shapes = { input, weight: weight.shape, ...(bias ? { bias: bias.shape } : {}) };
  if (kind === 'conv2d') ops.conv2d.forward(shapes, params, limits);
  else ops.convTranspose2d.forward(shapes, params, limits);
}

export function buildLayer(
  name: string,
  config: LayerConfig,
  tensors: ReadonlyMap<string, SharedTensor>,
  maxElements: number,
): StoredLayer {
  const extra = [...tensors.keys()].find((k) => !(LAYER_TENSORS as readonly string[]).includes(k));
  if (extra !== undefined)
    throw new LayerError(400, `the file holds a tensor "${extra.slice(0, 64)}"; a layer holds only weight and bias`);
  const weight = tensors.get('weight');
  if (!weight) throw new LayerError(400, 'the file holds no tensor named "weight"');
  const bias = tensors.get('bias');
  if (bias && bias.dtype !== weight.dtype)
    throw new LayerError(422, `bias is ${bias.dtype} but weight is ${weight.dtype}; a layer holds one dtype`);
  for (const [field, t] of [
    ['weight', weight],
    ['bias', bias],
  ] as const) {
    if (t && t.values.length > maxElements)
      throw new LayerError(413, `${field} has ${t.values.length} elements, over MAX_ELEMENTS (${maxElements})`);
    if (t?.shape.includes(0)) throw new LayerError(400, `${field} has a dimension of size 0`);
  }
  try {
    probe(config.kind, config.params, weight, bias);
  } catch (err) {
    if (err instanceof OpError) throw new LayerError(err.status === 413 ? 413 : err.status, v2Text(err.message));
    throw err;
  }
  const [a, b] = weight.shape;
  const g = config.params.groups;
  return {
    name,
    op: config.op,
    kind: config.kind,
    params: config.params,
    dtype: weight.dtype,
    weight: weight.values,
    weightShape: weight.shape,
    bias: bias?.values,
    inChannels: config.kind === 'conv2d' ? b * g : a,
    outChannels: config.kind === 'conv2d' ? a : b * g,
    fixed: fixedParameters(config.kind, config.params),
    bytes: weight.values.byteLength + (bias?.values.byteLength ?? 0),
  };
}
