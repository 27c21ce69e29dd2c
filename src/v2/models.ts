import type { z } from 'zod';
import type { ResultName } from '../../workers/tasks.js';
import { type OpRoute, opRoutes, type TensorField } from '../routes/op-routes.js';

/**
 * The Open Inference Protocol's view of the ops: every /v1 op route is one model, named in
 * snake_case (`conv_transpose2d` for the forward pass, `conv2d_grad_input`, `im2col`), whose
 * tensors carry the /v1 field names in snake_case (`gradOutput` -> `grad_output`).
 */

export const snakeCase = (name: string): string => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** `conv-transpose2d/forward` -> `conv_transpose2d`, `conv2d/grad-input` -> `conv2d_grad_input`. */
export const modelNameOf = (op: string): string => op.replace(/\/forward$/, '').replace(/[/-]/g, '_');

/** Batched rank of each tensor, for the metadata's shapes (every dimension -1: any size). */
const RANK: Readonly<Record<TensorField | ResultName, number>> = {
  input: 4,
  weight: 4,
  bias: 1,
  gradOutput: 4,
  gradWeight: 4,
  gradBias: 1,
  columns: 3,
  output: 4,
  gradInput: 4,
};

export interface ModelTensor<F extends string> {
  /** The protocol's name (snake_case). */
  readonly name: string;
  /** The /v1 field it stands for. */
  readonly field: F;
  readonly optional: boolean;
  /** The batched shape with every dimension -1. */
  readonly shape: readonly number[];
}

export interface Model {
  readonly name: string;
  readonly route: OpRoute;
  readonly inputs: readonly ModelTensor<TensorField>[];
  readonly outputs: readonly ModelTensor<ResultName>[];
  /** The /v1 body fields that are op parameters (tensors and outputEncoding excluded). */
  readonly paramFields: readonly string[];
}

const anyShape = (field: TensorField | ResultName) => Array<number>(RANK[field]).fill(-1);

const objectShape = (schema: z.ZodType): Record<string, z.ZodType> => (schema as unknown as z.ZodObject).shape;

function modelOf(route: OpRoute): Model {
  const body = objectShape(route.body);
  const answer = objectShape(route.answer);
  const tensorFields = new Set<string>(route.tensors);
  return {
    name: modelNameOf(route.op),
    route,
    inputs: route.tensors.map((field) => ({
      name: snakeCase(field),
      field,
      optional: body[field].safeParse(undefined).success,
      shape: anyShape(field),
    })),
    outputs: Object.entries(answer).map(([field, schema]) => ({
      name: snakeCase(field),
      field: field as ResultName,
      optional: schema.safeParse(undefined).success,
      shape: anyShape(field as ResultName),
    })),
    paramFields: Object.keys(body).filter((f) => !tensorFields.has(f) && f !== 'outputEncoding'),
  };
}

/** Every model, in the order of the /v1 routes. */
export const models: readonly Model[] = (opRoutes as readonly OpRoute[]).map(modelOf);

export const modelNames = models.map((m) => m.name) as [string, ...string[]];

const byName = new Map(models.map((m) => [m.name, m]));

export const findModel = (name: string): Model | undefined => byName.get(name);
