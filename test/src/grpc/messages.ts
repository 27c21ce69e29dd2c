/**
 * Golden requests as ModelInferRequest messages, written from the protocol: parameters as
 * InferParameter values, tensors in raw_input_contents (what clients send by default) or in the
 * typed contents of their datatype.
 */
import type { GoldenRequest } from '../../golden/fixtures.js';
import { toV2 } from '../v2/wire.js';
import { floats, rawOf } from './client.js';

export type Param =
  | { bool_param: boolean }
  | { int64_param: number }
  | { double_param: number }
  | { string_param: string };

export const param = (v: number | boolean | string): Param =>
  typeof v === 'boolean'
    ? { bool_param: v }
    : typeof v === 'string'
      ? { string_param: v }
      : Number.isInteger(v)
        ? { int64_param: v }
        : { double_param: v };

export const params = (p: Record<string, number | boolean | string> = {}): Record<string, Param> =>
  Object.fromEntries(Object.entries(p).map(([k, v]) => [k, param(v)]));

/** A golden /v1 body as a ModelInferRequest of `model`. */
export function inferRequest(model: string, body: GoldenRequest, { typed = false } = {}) {
  const { request, tensors } = toV2(body, { binary: true });
  return {
    model_name: model,
    parameters: params(request.parameters),
    inputs: request.inputs.map((input, i) => ({
      name: input.name,
      datatype: input.datatype,
      shape: input.shape,
      ...(typed
        ? { contents: { [input.datatype === 'FP64' ? 'fp64_contents' : 'fp32_contents']: Array.from(tensors[i]) } }
        : {}),
    })),
    raw_input_contents: typed ? [] : tensors.map(rawOf),
  };
}

export interface OutputTensor {
  name: string;
  datatype: string;
  shape: number[];
  contents?: { fp32_contents?: number[]; fp64_contents?: number[] } | null;
}

/** A ModelInferResponse's outputs by name, from raw_output_contents or typed contents. */
export function outputValues(res: {
  outputs: OutputTensor[];
  raw_output_contents: Buffer[];
}): Record<string, Float32Array | Float64Array> {
  const values: Record<string, Float32Array | Float64Array> = {};
  res.outputs.forEach((o, i) => {
    if (res.raw_output_contents.length > 0) values[o.name] = floats(res.raw_output_contents[i], o.datatype);
    else if (o.datatype === 'FP64') values[o.name] = Float64Array.from(o.contents?.fp64_contents ?? []);
    else values[o.name] = Float32Array.from(o.contents?.fp32_contents ?? []);
  });
  return values;
}
