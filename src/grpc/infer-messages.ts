import type { FloatArray } from '../../workers/geometry.js';
import { fieldErrors, RequestValidationError } from '../request-validation.js';
import { dtypeOf, piecesOf } from '../tensor/pieces.js';
import { V2Error } from '../v2/errors.js';
import type { Inference } from '../v2/infer.js';
import type { Model } from '../v2/models.js';
import { BINARY_DATA_OUTPUT } from '../v2/parameters.js';
import { type InferenceRequest, InferenceRequestSchema } from '../v2/schemas.js';
import { type BinaryTensors, DATATYPE_OF } from '../v2/tensors.js';
import type { InferParameter, InferTensorContents, ModelInferRequest, ParameterMap } from './proto.js';
import { fieldSize, packedVarintsSize, stringSize, Writer } from './wire.js';

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

/** ModelInferResponse's fields (proto/grpc_service.proto). */
const RESPONSE = { model_name: 1, model_version: 2, id: 3, outputs: 5, raw_output_contents: 6 } as const;
const OUTPUT = { name: 1, datatype: 2, shape: 3, contents: 5 } as const;
const CONTENTS = { FP32: 6, FP64: 7 } as const;

interface Output {
  readonly name: string;
  readonly datatype: 'FP32' | 'FP64';
  readonly shape: readonly number[];
  readonly pieces: readonly FloatArray[];
  readonly bytes: number;
}

/**
 * The answer of an inference as the encoded ModelInferResponse: each output's bytes in
 * raw_output_contents (what the protocol's clients read by default), or, when the request asked
 * for none of them raw (binary_data_output or each output's binary_data false), in its typed
 * contents (packed floats: the same little-endian bytes). The protocol has no way to mix the two
 * in one answer: inferenceRequestOf refuses a request asking for both. Written by hand
 * (src/grpc/wire.ts): the results are copied once, into the message.
 */
export function inferResponseOf(model: Model, header: InferenceRequest, inference: Inference): Buffer {
  const { wanted, results, shapes } = inference;
  const raw = wanted.some((o) => o.binary);
  const outputs: Output[] = wanted.map((o) => {
    const values = results[o.field];
    const shape = shapes[o.field];
    if (!values || !shape) throw new Error(`the worker returned no ${o.field}`);
    const pieces = piecesOf(values);
    return {
      name: o.name,
      datatype: DATATYPE_OF[dtypeOf(values)],
      shape,
      pieces,
      bytes: pieces.reduce((n, p) => n + p.byteLength, 0),
    };
  });
  const metaSize = (o: Output) =>
    stringSize(OUTPUT.name, o.name) +
    stringSize(OUTPUT.datatype, o.datatype) +
    fieldSize(OUTPUT.shape, packedVarintsSize(o.shape)) +
    (raw ? 0 : fieldSize(OUTPUT.contents, fieldSize(CONTENTS[o.datatype], o.bytes)));
  let size = stringSize(RESPONSE.model_name, model.name) + stringSize(RESPONSE.model_version, MODEL_VERSION);
  if (header.id !== undefined) size += stringSize(RESPONSE.id, header.id);
  for (const o of outputs) {
    size += fieldSize(RESPONSE.outputs, metaSize(o));
    if (raw) size += fieldSize(RESPONSE.raw_output_contents, o.bytes);
  }
  const w = new Writer(size);
  w.string(RESPONSE.model_name, model.name).string(RESPONSE.model_version, MODEL_VERSION);
  if (header.id !== undefined) w.string(RESPONSE.id, header.id);
  for (const o of outputs) {
    w.head(RESPONSE.outputs, metaSize(o)).string(OUTPUT.name, o.name).string(OUTPUT.datatype, o.datatype);
    w.head(OUTPUT.shape, packedVarintsSize(o.shape));
    for (const d of o.shape) w.varint(d);
    if (!raw)
      w.head(OUTPUT.contents, fieldSize(CONTENTS[o.datatype], o.bytes))
        .head(CONTENTS[o.datatype], o.bytes)
        .bytes(o.pieces);
  }
  if (raw) for (const o of outputs) w.head(RESPONSE.raw_output_contents, o.bytes).bytes(o.pieces);
  return w.finish();
}

const MODEL_VERSION = '1';
