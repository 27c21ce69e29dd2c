import type { StoredLayer } from '../models/layer.js';
import type { TensorSource } from '../routes/execute-op.js';
import type { TensorField } from '../routes/op-routes.js';
import { V2Error } from './errors.js';
import { findModel, type Model, modelNameOf } from './models.js';
import type { InferenceRequest } from './schemas.js';
import { DATATYPE_OF } from './tensors.js';

/**
 * Inference on a stored layer is inference on its op's model with the layer's weight (and bias)
 * and fixed parameters put in: the request names only its own tensors. The request parameter
 * `pass` picks what runs with the stored weight: `forward` (the default), `grad_input`,
 * `grad_parameters` or `backward`, each the layer op's model of that pass.
 */

export const LAYER_PASSES = ['forward', 'grad_input', 'grad_parameters', 'backward'] as const;
export type LayerPass = (typeof LAYER_PASSES)[number];

/** The request parameter that picks the pass. */
export const PASS_PARAMETER = 'pass';

/** Tensors a layer holds itself; a request that sends them is refused. */
const STORED: readonly TensorField[] = ['weight', 'bias'];

/** The op's model that runs `pass` of the layer. */
export function passModel(layer: StoredLayer, pass: LayerPass): Model {
  const model = findModel(modelNameOf(`${layer.kind}/${pass.replace('_', '-')}`));
  if (!model) throw new Error(`no model runs ${layer.kind} ${pass}`);
  return model;
}

/** The parameters a pass gets from the layer: its fixed ones, and grad_parameters' kernel size. */
function layerParameters(layer: StoredLayer, pass: LayerPass): Record<string, number> {
  const fixed = { ...layer.fixed };
  if (pass === 'grad_parameters') {
    fixed.kernel_h = layer.weightShape[2];
    fixed.kernel_w = layer.weightShape[3];
  }
  return fixed;
}

/** Batched shapes (-1: any size) of the tensors a pass takes and gives, by field. */
export function layerShapes(layer: StoredLayer): Partial<Record<string, number[]>> {
  return {
    input: [-1, layer.inChannels, -1, -1],
    gradOutput: [-1, layer.outChannels, -1, -1],
    output: [-1, layer.outChannels, -1, -1],
    gradInput: [-1, layer.inChannels, -1, -1],
    gradWeight: [...layer.weightShape],
    gradBias: [layer.outChannels],
  };
}

/** What a pass takes and gives, as the metadata lists it. */
export function passTensors(layer: StoredLayer, pass: LayerPass) {
  const model = passModel(layer, pass);
  const shapes = layerShapes(layer);
  const datatype = DATATYPE_OF[layer.dtype];
  const own = model.inputs.filter((i) => !STORED.includes(i.field));
  return {
    inputs: own.map((i) => ({ name: i.name, datatype, shape: shapes[i.field] ?? [], optional: i.optional })),
    outputs: model.outputs.map((o) => ({ name: o.name, datatype, shape: shapes[o.field] ?? [] })),
  };
}

export interface LayerRun {
  /** The op's model the request runs as. */
  readonly model: Model;
  /** The same model as the caller sees it: named for the layer, without the stored inputs. */
  readonly view: Model;
  readonly parameters: Record<string, string | number | boolean>;
  readonly stored: [TensorField, TensorSource][];
}

/** How a request on `layer` runs: its op's model, parameters, and the stored tensors to add. */
export function layerRun(layer: StoredLayer, request: InferenceRequest): LayerRun {
  const { [PASS_PARAMETER]: pass = 'forward', ...given } = request.parameters ?? {};
  if (typeof pass !== 'string' || !(LAYER_PASSES as readonly string[]).includes(pass))
    throw new V2Error(400, `parameters.${PASS_PARAMETER} must be one of ${LAYER_PASSES.join(', ')}`);
  const model = passModel(layer, pass as LayerPass);
  const fixed = layerParameters(layer, pass as LayerPass);
  for (const name of Object.keys(given)) {
    if (name in fixed)
      throw new V2Error(
        400,
        `parameters.${name.slice(0, 64)} is fixed by layer ${layer.name} (${fixed[name]}); leave it out`,
      );
  }
  for (const input of request.inputs) {
    if (STORED.includes(input.name as TensorField))
      throw new V2Error(
        400,
        `${input.name} is stored in layer ${layer.name}; send only ${passTensors(layer, pass as LayerPass)
          .inputs.map((i) => i.name)
          .join(', ')}`,
      );
    if (input.datatype !== DATATYPE_OF[layer.dtype])
      throw new V2Error(
        422,
        `${input.name} is ${input.datatype} but layer ${layer.name} holds ${DATATYPE_OF[layer.dtype]} weights; all tensors of a request share one datatype`,
      );
  }
  const stored: [TensorField, TensorSource][] = [];
  const source = (shape: readonly number[], values: StoredLayer['weight']): TensorSource => ({
    shape,
    dtype: layer.dtype,
    decode: () => values,
  });
  if (model.inputs.some((i) => i.field === 'weight')) stored.push(['weight', source(layer.weightShape, layer.weight)]);
  if (layer.bias && model.inputs.some((i) => i.field === 'bias'))
    stored.push(['bias', source([layer.outChannels], layer.bias)]);
  const view: Model = {
    ...model,
    name: layer.name,
    inputs: model.inputs.filter((i) => !STORED.includes(i.field)),
  };
  return { model, view, parameters: { ...given, ...fixed }, stored };
}

/** `stored` added to the request's tensors, all in the model's input order. */
export function withStored(
  model: Model,
  given: readonly (readonly [TensorField, TensorSource])[],
  stored: readonly (readonly [TensorField, TensorSource])[],
): [TensorField, TensorSource][] {
  const all = new Map<TensorField, TensorSource>([...given, ...stored]);
  return model.inputs.flatMap((i) =>
    all.has(i.field) ? [[i.field, all.get(i.field)!] as [TensorField, TensorSource]] : [],
  );
}
