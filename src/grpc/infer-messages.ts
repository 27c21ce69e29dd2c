import type { FloatArray } from '../../workers/geometry.js';
import { fieldErrors, RequestValidationError } from '../request-validation.js';
import { dtypeOf, joined, piecesOf } from '../tensor/pieces.js';
import { V2Error } from '../v2/errors.js';
import type { Inference } from '../v2/infer.js';
import type { Model } from '../v2/models.js';
import { BINARY_DATA_OUTPUT } from '../v2/parameters.js';
import { type InferenceRequest, InferenceRequestSchema } from '../v2/schemas.js';
import { type BinaryTensors, DATATYPE_OF } from '../v2/tensors.js';
import type {
  InferOutputTensor,
  InferParameter,
  InferTensorContents,
  ModelInferRequest,
  ModelInferResponse,
  ParameterMap,
} from './proto.js';

/**
 * ModelInfer's messages in the terms of the REST half (src/v2/): a request becomes the JSON
 * InferenceRequest its REST twin would send, checked by the same schema, with its tensors as
 * binary ones (raw_input_contents, or typed contents made raw); the inference's outputs become a
 * ModelInferResponse. Everything else (names, parameters, shapes, limits) is src/v2/'s.
 */

type Scalar = string | number | boolean;

/** The typed contents field of each datatype the service takes. */
const CONTENTS_FIELD = { FP32: 'fp32_contents', FP64: 'fp64_contents' } as const;
type Datatype = keyof typeof CONTENTS_FIELD;

const isDatatype = (d: string | undefined): d is Datatype => d !== undefined && Object.hasOwn(CONTENTS_FIELD, d);

/** A parameter's value, whichever of the oneof's fields holds it. */
function scalarOf(where: string, p: InferParameter): Scalar {
  const field = p.parameter_choice;
  const value = field === undefined ? undefined : p[field];
  if (value === undefined)
    throw new V2Error(400, `${where} has no value: set one of bool_param, int64_param, string_param, double_param`);
  return value;
}

function scalars(where: string, map: ParameterMap | undefined): Record<string, Scalar> | undefined {
  const entries = Object.entries(map ?? {});
  if (entries.length === 0) return undefined;
  return Object.fromEntries(entries.map(([k, p]) => [k, scalarOf(`${where}.${k.slice(0, 64)}`, p)]));
}

/** The contents fields that hold values. */
const filledContents = (c: InferTensorContents | undefined): string[] =>
  Object.entries(c ?? {})
    .filter(([, v]) => Array.isArray(v) && v.length > 0)
    .map(([k]) => k);

/** Typed contents as the little-endian bytes raw_input_contents would carry. */
function rawOf(values: readonly number[], datatype: Datatype): Buffer {
  const array: FloatArray = datatype === 'FP32' ? Float32Array.from(values) : Float64Array.from(values);
  return Buffer.from(array.buffer, array.byteOffset, array.byteLength);
}

/** One input's bytes each, in input order: what tensorSources takes them from. */
function perInputTensors(bytes: readonly (Buffer | undefined)[], sizeNames: readonly string[]): BinaryTensors {
  return {
    sizeName: (index) => sizeNames[index],
    take: (index) => bytes[index]!,
    end: () => {},
  };
}

/**
 * A ModelInferRequest as the REST InferenceRequest it stands for, and its tensors. Throws
 * V2Error (400) or RequestValidationError for what REST would refuse, in gRPC's field names.
 */
export function inferenceRequestOf(message: ModelInferRequest): { header: InferenceRequest; binary: BinaryTensors } {
  const raw = message.raw_input_contents;
  const inputs = message.inputs;
  if (raw.length > 0 && raw.length !== inputs.length) {
    throw new V2Error(
      400,
      `raw_input_contents has ${raw.length} entries but there are ${inputs.length} inputs: give one per input, in input order`,
    );
  }
  const bytes: (Buffer | undefined)[] = [];
  const sizeNames: string[] = [];
  const headerInputs = inputs.map((input, i) => {
    const filled = filledContents(input.contents);
    const where = `inputs[${i}] (${(input.name ?? '').slice(0, 64)})`;
    let tensor: Buffer | undefined;
    if (raw.length > 0) {
      if (filled.length > 0)
        throw new V2Error(400, `${where}: give its elements in raw_input_contents or in contents, not both`);
      tensor = raw[i];
      sizeNames.push(`the size of raw_input_contents[${i}]`);
    } else if (isDatatype(input.datatype)) {
      const field = CONTENTS_FIELD[input.datatype];
      const other = filled.find((f) => f !== field);
      if (other !== undefined)
        throw new V2Error(
          400,
          `${where}: contents.${other} does not hold ${input.datatype} tensors; use contents.${field}`,
        );
      if (filled.length === 0)
        throw new V2Error(400, `${where}: give its elements in raw_input_contents or in contents.${field}`);
      tensor = rawOf(input.contents![field]!, input.datatype);
      sizeNames.push(`the size of contents.${field} (${input.datatype === 'FP32' ? 4 : 8} bytes a value)`);
    } else {
      // The schema refuses the datatype below.
      sizeNames.push('');
    }
    bytes.push(tensor);
    const parameters = scalars(`inputs[${i}].parameters`, input.parameters) ?? {};
    return {
      name: input.name ?? '',
      shape: input.shape,
      datatype: input.datatype ?? '',
      parameters: tensor === undefined ? parameters : { ...parameters, binary_data_size: tensor.length },
    };
  });
  const header = {
    ...(message.id ? { id: message.id } : {}),
    ...(message.parameters && Object.keys(message.parameters).length > 0
      ? { parameters: scalars('parameters', message.parameters) }
      : {}),
    inputs: headerInputs,
    ...(message.outputs.length > 0
      ? {
          outputs: message.outputs.map((o, i) => {
            const parameters = scalars(`outputs[${i}].parameters`, o.parameters);
            return { name: o.name ?? '', ...(parameters ? { parameters } : {}) };
          }),
        }
      : {}),
  };
  const parsed = InferenceRequestSchema.safeParse(header);
  if (!parsed.success)
    throw new RequestValidationError('request', fieldErrors(parsed.error.issues, header, InferenceRequestSchema));
  // Refused before the work, not after it.
  const byDefault = parsed.data.parameters?.[BINARY_DATA_OUTPUT] ?? true;
  const forms = new Set((parsed.data.outputs ?? []).map((o) => o.parameters?.binary_data ?? byDefault));
  if (forms.size > 1) throw new V2Error(400, MIXED_OUTPUTS);
  return { header: parsed.data, binary: perInputTensors(bytes, sizeNames) };
}

const MIXED_OUTPUTS = 'outputs must all be raw (raw_output_contents) or all typed (contents): not some of each';

/** The model version a request names: "" and "1" are the only one. */
export function checkVersion(model: Model, version: string | undefined): void {
  if (version && version !== '1')
    throw new V2Error(404, `model ${model.name} has no version ${version.slice(0, 64)}; its only version is 1`);
}

/**
 * The answer of an inference: each output's bytes in raw_output_contents (what the protocol's
 * clients read by default), or, when the request asked for none of them raw (binary_data_output
 * or each output's binary_data false), in its typed contents. The protocol has no way to mix
 * the two in one answer: inferenceRequestOf refuses a request asking for both.
 */
export function inferResponseOf(model: Model, header: InferenceRequest, inference: Inference): ModelInferResponse {
  const { wanted, results, shapes } = inference;
  const raw = wanted.some((o) => o.binary);
  const response: ModelInferResponse = {
    model_name: model.name,
    model_version: '1',
    ...(header.id !== undefined ? { id: header.id } : {}),
    outputs: [],
    raw_output_contents: [],
  };
  for (const o of wanted) {
    const values = results[o.field];
    const shape = shapes[o.field];
    if (!values || !shape) throw new Error(`the worker returned no ${o.field}`);
    const datatype = DATATYPE_OF[dtypeOf(values)];
    const output: InferOutputTensor = { name: o.name, datatype, shape: [...shape] };
    if (raw) {
      const pieces = piecesOf(values);
      response.raw_output_contents.push(
        pieces.length === 1
          ? Buffer.from(pieces[0].buffer, pieces[0].byteOffset, pieces[0].byteLength)
          : Buffer.concat(pieces.map((p) => new Uint8Array(p.buffer, p.byteOffset, p.byteLength))),
      );
    } else {
      output.contents = { [CONTENTS_FIELD[datatype]]: Array.from(joined(values)) };
    }
    response.outputs.push(output);
  }
  return response;
}
