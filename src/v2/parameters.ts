import { z } from 'zod';
import { fieldErrors } from '../request-validation.js';
import type { TensorSource } from '../routes/execute-op.js';
import type { TensorField } from '../routes/op-routes.js';
import { int } from '../schemas/common.js';
import { DtypeSchema } from '../schemas/tensor.js';
import { V2Error } from './errors.js';
import type { Model } from './models.js';
import { INPUT_SIZE_PARAMS, PAIR_PARAMS, SCALAR_PARAMS, v2Path } from './names.js';

/** Parameters of the binary extension rather than of an op. */
export const BINARY_DATA_OUTPUT = 'binary_data_output';

type Scalar = string | number | boolean;

/** A tensor as planning sees it: its shape and dtype. The data was checked on its own. */
const PlannedTensorSchema = z.object({ shape: z.array(int(1)).min(1).max(4), dtype: DtypeSchema });

const bodySchemas = new Map<Model, z.ZodType>();

/**
 * The model's /v1 body schema with each tensor field standing for shape and dtype only, so
 * parameter rules, defaults and required tensors live in one place, the /v1 schema.
 */
function bodySchemaOf(model: Model): z.ZodType {
  let schema = bodySchemas.get(model);
  if (!schema) {
    const tensors = Object.fromEntries(
      model.inputs.map((i) => [i.field, i.optional ? PlannedTensorSchema.optional() : PlannedTensorSchema]),
    );
    schema = (model.route.body as unknown as z.ZodObject).extend(tensors);
    bodySchemas.set(model, schema);
  }
  return schema;
}

/**
 * The input's full shape from its spatial size: the batch comes from grad_output, the channels
 * from the weight (conv2d: [Cout, Cin/groups, kH, kW]; transposed: [Cin, Cout/groups, kH, kW]).
 * The op's planning then checks it like any /v1 inputShape.
 */
function inputShapeOf(
  model: Model,
  size: [Scalar, Scalar],
  tensors: ReadonlyMap<TensorField, TensorSource>,
  groups: unknown,
): unknown[] {
  const gradOutput = tensors.get('gradOutput')?.shape ?? [];
  const weight = tensors.get('weight')?.shape ?? [];
  const g = typeof groups === 'number' && Number.isInteger(groups) && groups >= 1 ? groups : 1;
  const channels = model.route.op.startsWith('conv2d') ? weight[1] * g : weight[0];
  return [...gradOutput.slice(0, gradOutput.length - 3), channels, ...size];
}

/**
 * The /v1-named body of an inference request: split pair parameters joined into [h, w] pairs,
 * tensors as shape and dtype, validated (and defaulted) by the model's /v1 body schema.
 */
export function v1Body(
  model: Model,
  parameters: Readonly<Record<string, Scalar>> | undefined,
  tensors: readonly (readonly [TensorField, TensorSource])[],
): Record<string, unknown> {
  const left = new Map(Object.entries(parameters ?? {}));
  const take = (name: string) => {
    const v = left.get(name);
    left.delete(name);
    return v;
  };
  const pairOf = (h: string, w: string): [Scalar, Scalar] | undefined => {
    const [vh, vw] = [take(h), take(w)];
    if (vh === undefined && vw === undefined) return undefined;
    if (vh === undefined || vw === undefined)
      throw new V2Error(400, `parameters.${h} and parameters.${w} go together: give both or neither`);
    return [vh, vw];
  };

  const binaryOutput = take(BINARY_DATA_OUTPUT);
  if (binaryOutput !== undefined && typeof binaryOutput !== 'boolean')
    throw new V2Error(400, `parameters.${BINARY_DATA_OUTPUT} must be a boolean`);

  const body: Record<string, unknown> = {};
  let inputSize: [Scalar, Scalar] | undefined;
  for (const field of model.paramFields) {
    if (field in PAIR_PARAMS) {
      const pair = pairOf(`${PAIR_PARAMS[field]}_h`, `${PAIR_PARAMS[field]}_w`);
      if (pair) body[field] = pair;
    } else if (field in SCALAR_PARAMS) {
      const v = take(SCALAR_PARAMS[field]);
      if (v !== undefined) body[field] = v;
    } else if (field === 'inputShape') {
      inputSize = pairOf(...INPUT_SIZE_PARAMS);
    }
  }
  if (left.size > 0) {
    const known = [...model.paramFields.flatMap(v2ParamNames), BINARY_DATA_OUTPUT];
    const name = [...left.keys()][0].slice(0, 64);
    throw new V2Error(
      400,
      `parameters.${name} is not a parameter of model ${model.name}; it takes ${known.join(', ')}`,
    );
  }
  const byField = new Map(tensors.map(([f, t]) => [f, t]));
  if (inputSize) body.inputShape = inputShapeOf(model, inputSize, byField, body.groups);
  for (const [field, t] of tensors) body[field] = { shape: t.shape, dtype: t.dtype };

  const parsed = bodySchemaOf(model).safeParse(body);
  if (!parsed.success) {
    const { errors, total } = fieldErrors(parsed.error.issues, body);
    const more = total > 1 ? ` (and ${total - 1} more)` : '';
    throw new V2Error(400, `${v2Path(errors[0].path)} ${errors[0].message}${more}`);
  }
  return parsed.data as Record<string, unknown>;
}

/** The /v2 parameter names of a /v1 parameter field. */
export function v2ParamNames(field: string): string[] {
  if (field in PAIR_PARAMS) return [`${PAIR_PARAMS[field]}_h`, `${PAIR_PARAMS[field]}_w`];
  if (field in SCALAR_PARAMS) return [SCALAR_PARAMS[field]];
  if (field === 'inputShape') return [...INPUT_SIZE_PARAMS];
  return [];
}
