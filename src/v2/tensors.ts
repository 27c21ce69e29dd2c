import type { FloatArray } from '../../workers/geometry.js';
import type { TensorSource } from '../routes/execute-op.js';
import type { TensorField } from '../routes/op-routes.js';
import type { Dtype } from '../schemas/tensor.js';
import { BYTES_PER_ELEMENT, elementCount } from '../schemas/tensor.js';
import { firstFloat32Overflow, NON_FINITE, PackedData } from '../schemas/tensor-data.js';
import { allocate } from '../tensor/codec.js';
import { V2Error } from './errors.js';
import type { Model } from './models.js';
import type { Datatype, RequestInput } from './schemas.js';

export const DTYPE_OF: Readonly<Record<Datatype, Dtype>> = { FP32: 'float32', FP64: 'float64' };
export const DATATYPE_OF: Readonly<Record<Dtype, Datatype>> = { float32: 'FP32', float64: 'FP64' };

const describeShape = (shape: readonly number[]) => `[${shape.join(', ')}]`;

/** JSON `data` as the body parser left it: as parsed (a small body) or already read (PackedData, src/schemas/tensor-data.ts). */
type Data = readonly unknown[] | PackedData;

/**
 * Checks JSON `data` (flat or nested) against the tensor's element count and dtype without
 * allocating: the op is planned and admitted before anything is decoded. It stops at the first
 * bad value, which alone is reported.
 */
function checkData(name: string, data: Data, shape: readonly number[], dtype: Dtype): void {
  const count = elementCount(shape);
  const notFinite = (v: number) => new V2Error(400, `${name}.data: ${v} is not a finite ${dtype}`);
  const notElement = () =>
    new V2Error(400, `${name}.data: every value must be a number or one of "NaN", "Infinity", "-Infinity"`);
  let seen = 0;
  if (data instanceof PackedData) {
    const end = data.firstBad >= 0 ? data.firstBad : data.length;
    const overflow = dtype === 'float32' ? firstFloat32Overflow(new PackedData(data.values.subarray(0, end))) : -1;
    if (overflow >= 0) throw notFinite(data.values[overflow]);
    if (data.firstBad >= 0) throw notElement();
    seen = data.length;
  } else {
    const walk = (values: readonly unknown[], depth: number): void => {
      for (let i = 0; i < values.length; i++) {
        const v = values[i];
        if (typeof v === 'number') {
          if (!Number.isFinite(dtype === 'float32' ? Math.fround(v) : v)) throw notFinite(v);
        } else if (Array.isArray(v) && depth < 4) {
          walk(v, depth + 1);
          continue;
        } else if (typeof v !== 'string' || !Object.hasOwn(NON_FINITE, v)) {
          throw notElement();
        }
        seen++;
      }
    };
    walk(data, 1);
  }
  if (seen !== count)
    throw new V2Error(400, `${name}.data has ${seen} values but shape ${describeShape(shape)} holds ${count}`);
}

function decodeData(data: Data, dtype: Dtype, count: number): FloatArray {
  const out = allocate(dtype, count);
  if (data instanceof PackedData) {
    out.set(data.values);
    return out;
  }
  let i = 0;
  const walk = (values: readonly unknown[]): void => {
    for (const v of values) {
      if (Array.isArray(v)) walk(v);
      else out[i++] = typeof v === 'number' ? v : NON_FINITE[v as string];
    }
  };
  walk(data);
  return out;
}

function decodeBytes(bytes: Buffer, dtype: Dtype, count: number): FloatArray {
  const out = allocate(dtype, count);
  new Uint8Array(out.buffer, out.byteOffset, out.byteLength).set(bytes);
  return out;
}

/**
 * Where a request's binary tensors are (those whose input declares a size in bytes): REST's
 * binary section, or gRPC's raw_input_contents (src/grpc/). Each says what a size is called
 * (for messages) and hands out the bytes of one input, refusing what it does not hold.
 */
export interface BinaryTensors {
  /** The declared size as the caller wrote it: `binary_data_size`, `raw_input_contents[1]`. */
  sizeName(index: number): string;
  /** The `size` bytes of input `index` (named `name`); throws V2Error when they are not there. */
  take(index: number, name: string, size: number): Buffer;
  /** Throws V2Error when bytes were given that no input took. */
  end(): void;
}

/** REST's binary section: the inputs' bytes one after the other, in input order. */
export function binarySectionTensors(section: Buffer): BinaryTensors {
  let offset = 0;
  return {
    sizeName: () => 'binary_data_size',
    take(_index, name, size) {
      if (offset + size > section.length) {
        throw new V2Error(
          400,
          `${name}: the binary section ends at byte ${section.length}, before this tensor's ${size} bytes from byte ${offset}`,
        );
      }
      const bytes = section.subarray(offset, offset + size);
      offset += size;
      return bytes;
    },
    end() {
      if (offset !== section.length) {
        throw new V2Error(
          400,
          `the binary section holds ${section.length} bytes but the inputs' binary_data_size add up to ${offset}`,
        );
      }
    },
  };
}

/**
 * The request's tensors as the op pipeline takes them, in the model's input order: JSON `data`
 * or binary bytes (`binary`: REST's binary section, or gRPC's raw contents). Shapes, dtypes,
 * counts and byte sizes are all checked here; decoding waits for `decode()`.
 */
export function tensorSources(
  model: Model,
  inputs: readonly RequestInput[],
  binary: BinaryTensors,
): [TensorField, TensorSource][] {
  const byName = new Map<string, readonly [TensorField, TensorSource]>();
  for (const [index, input] of inputs.entries()) {
    const spec = model.inputs.find((i) => i.name === input.name);
    if (!spec) {
      throw new V2Error(
        400,
        `model ${model.name} has no input "${input.name.slice(0, 64)}"; its inputs are ${model.inputs.map((i) => i.name).join(', ')}`,
      );
    }
    if (byName.has(input.name)) throw new V2Error(400, `input ${input.name} is given twice`);
    const dtype = DTYPE_OF[input.datatype];
    const count = elementCount(input.shape);
    const binarySize = input.parameters?.binary_data_size;
    let decode: () => FloatArray;
    if (binarySize !== undefined) {
      if (input.data !== undefined)
        throw new V2Error(400, `${input.name}: give either data or binary_data_size, not both`);
      const want = count * BYTES_PER_ELEMENT[dtype];
      if (binarySize !== want) {
        throw new V2Error(
          400,
          `${input.name}: ${binary.sizeName(index)} is ${binarySize} but shape ${describeShape(input.shape)} of ${input.datatype} needs ${want} bytes`,
        );
      }
      const bytes = binary.take(index, input.name, binarySize);
      decode = () => decodeBytes(bytes, dtype, count);
    } else {
      if (input.data === undefined)
        throw new V2Error(400, `${input.name}: give data, or binary_data_size with the tensor in the binary section`);
      const data = input.data;
      checkData(input.name, data, input.shape, dtype);
      decode = () => decodeData(data, dtype, count);
    }
    byName.set(input.name, [spec.field, { shape: input.shape, dtype, decode }]);
  }
  binary.end();
  return model.inputs.flatMap((i) => (byName.has(i.name) ? [byName.get(i.name) as [TensorField, TensorSource]] : []));
}
