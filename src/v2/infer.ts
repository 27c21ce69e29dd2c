import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { FloatArray } from '../../workers/geometry.js';
import type { ResultName } from '../../workers/tasks.js';
import { bodyBytesParser, jsonCost } from '../body-bytes.js';
import { type BodyCost, binaryBodyCost } from '../memory-model.js';
import type { StoredLayer } from '../models/layer.js';
import type { Layers } from '../models/layers.js';
import type { ModelStatistics } from '../models/stats.js';
import { executeOp, type OpCaller, type OpContext } from '../routes/execute-op.js';
import { encodeTensor } from '../tensor/codec.js';
import { JsonBodyParser } from '../tensor/off-loop-parse.js';
import { dtypeOf, joined, piecesOf, type Values } from '../tensor/pieces.js';
import { BINARY_CONTENT_TYPE, binarySection, frameBinary, HEADER_LENGTH, inferBodyParser } from './binary.js';
import { MEDIA_TYPE, V2Error } from './errors.js';
import { layerRun, withStored } from './layer-infer.js';
import { findModel, type Model } from './models.js';
import { BINARY_DATA_OUTPUT, v1Body } from './parameters.js';
import { AnyModelParams, errorAnswers, knownModelOrLayer, VersionedModelParams } from './route-schemas.js';
import {
  type InferenceRequest,
  InferenceRequestSchema,
  type InferenceResponse,
  InferenceResponseSchema,
} from './schemas.js';
import { type BinaryTensors, binarySectionTensors, DATATYPE_OF, tensorSources } from './tensors.js';

export interface WantedOutput {
  readonly name: string;
  readonly field: ResultName;
  readonly binary: boolean;
}

/** The outputs to answer with, in order: those the request names, or every one the op produced. */
function wantedOutputs(
  model: Model,
  request: InferenceRequest,
  body: Record<string, unknown>,
  produced: readonly string[],
  binaryByDefault: boolean,
): WantedOutput[] {
  const binaryDefault = (request.parameters?.[BINARY_DATA_OUTPUT] ?? binaryByDefault) === true;
  if (!request.outputs) {
    return model.outputs
      .filter((o) => produced.includes(o.field))
      .map((o) => ({ name: o.name, field: o.field, binary: binaryDefault }));
  }
  const seen = new Set<string>();
  return request.outputs.map((asked) => {
    const spec = model.outputs.find((o) => o.name === asked.name);
    if (!spec)
      throw new V2Error(
        400,
        `model ${model.name} has no output "${asked.name.slice(0, 64)}"; its outputs are ${model.outputs.map((o) => o.name).join(', ')}`,
      );
    if (seen.has(asked.name)) throw new V2Error(400, `output ${asked.name} is asked for twice`);
    seen.add(asked.name);
    // Only grad_bias is optional, and only compute_bias=false leaves it out.
    if (spec.optional && body.computeBias === false)
      throw new V2Error(400, `output ${spec.name} is not computed when compute_bias is false`);
    return { name: spec.name, field: spec.field, binary: asked.parameters?.binary_data ?? binaryDefault };
  });
}

/** What an inference gives: the outputs to answer with, in order, and the op's results. */
export interface Inference {
  readonly wanted: readonly WantedOutput[];
  readonly results: Readonly<Partial<Record<ResultName, Values>>>;
  readonly shapes: Partial<Record<ResultName, readonly number[]>>;
}

/**
 * One inference, whatever protocol carried it (REST here, gRPC in src/grpc/): the request's
 * tensors and parameters become the /v1 body of the model's op route, which runs through the
 * same pipeline (limits, admission, deadline, kernels). A stored layer's request runs as its op's
 * model with the layer's tensors and parameters put in (src/v2/layer-infer.ts); `view` is the
 * model as its caller sees it. `binaryByDefault`: whether an output whose request does not say
 * is answered as raw bytes (gRPC) or as JSON numbers (REST).
 */
export async function runInference(
  target: Model | StoredLayer,
  header: InferenceRequest,
  binary: BinaryTensors,
  ctx: OpContext,
  caller: FastifyRequest | OpCaller,
  binaryByDefault: boolean,
): Promise<Inference & { readonly view: Model }> {
  const run = 'route' in target ? undefined : layerRun(target, header);
  const model = run?.model ?? (target as Model);
  const view = run?.view ?? model;
  const given = tensorSources(view, header.inputs, binary);
  const tensors = run ? withStored(model, given, run.stored) : given;
  const body = v1Body(model, run ? run.parameters : header.parameters, tensors);
  // Unknown or impossible outputs fail before the work, not after it.
  if (header.outputs) wantedOutputs(view, header, body, [], binaryByDefault);
  const { results, shapes } = await executeOp(model.route, body, tensors, ctx, caller);
  const wanted = wantedOutputs(view, header, body, Object.keys(shapes), binaryByDefault);
  return { view, wanted, results, shapes };
}

function answer(
  reply: FastifyReply,
  model: Model,
  request: InferenceRequest,
  wanted: readonly WantedOutput[],
  results: Readonly<Partial<Record<ResultName, Values>>>,
  shapes: Partial<Record<ResultName, readonly number[]>>,
) {
  const header: InferenceResponse = {
    model_name: model.name,
    model_version: '1',
    ...(request.id !== undefined ? { id: request.id } : {}),
    outputs: [],
  };
  const binary: FloatArray[] = [];
  for (const o of wanted) {
    const values = results[o.field];
    const shape = shapes[o.field];
    if (!values || !shape) throw new Error(`the worker returned no ${o.field}`);
    const pieces = piecesOf(values);
    const datatype = DATATYPE_OF[dtypeOf(values)];
    if (o.binary) {
      const size = pieces.reduce((n, p) => n + p.byteLength, 0);
      header.outputs.push({ name: o.name, datatype, shape: [...shape], parameters: { binary_data_size: size } });
      binary.push(...pieces);
    } else {
      header.outputs.push({
        name: o.name,
        datatype,
        shape: [...shape],
        data: encodeTensor(joined(values), shape, 'json').data,
      });
    }
  }
  if (binary.length === 0) return header;
  const { body, headerLength } = frameBinary(header, binary);
  return reply.header(HEADER_LENGTH, String(headerLength)).type(BINARY_CONTENT_TYPE).send(body);
}

const BinaryBodySchema = z.any().meta({
  type: 'string',
  format: 'binary',
  description:
    'Binary tensor data extension: the JSON InferenceResponse (Inference-Header-Content-Length bytes), then the outputs with a binary_data_size, little-endian, in output order.',
});

/** What an infer body holds once parsed: its JSON header as any JSON body, its binary tensors less. */
function inferCost(request: FastifyRequest, body: Buffer): BodyCost {
  const headerLength = Number(request.headers[HEADER_LENGTH]);
  if (!Number.isSafeInteger(headerLength)) return jsonCost(request, body);
  return binaryBodyCost(body, headerLength);
}

/** The batch of a request, for the statistics: the first dimension of its first batched input. */
function batchOf(request: InferenceRequest): number {
  const first = request.inputs[0];
  return first.shape.length === 4 || (first.name === 'columns' && first.shape.length === 3) ? first.shape[0] : 1;
}

/**
 * Runs an inference and gives its answer, recording both in the model's statistics (Triton's
 * statistics extension) however they end: REST's infer route and gRPC's ModelInfer record
 * through this one place. `start`: when the request reached its handler.
 */
export async function recordInference<T>(
  stats: ModelStatistics,
  name: string,
  header: InferenceRequest,
  infer: () => Promise<Inference & { readonly view: Model }>,
  answer: (inference: Inference & { readonly view: Model }) => T,
  start: bigint = process.hrtime.bigint(),
): Promise<T> {
  try {
    const inferStart = process.hrtime.bigint();
    const inference = await infer();
    const inferEnd = process.hrtime.bigint();
    const answered = answer(inference);
    stats.succeeded(name, batchOf(header), { start, inferStart, inferEnd, end: process.hrtime.bigint() });
    return answered;
  } catch (err) {
    stats.failed(name, { start, end: process.hrtime.bigint() });
    throw err;
  }
}

export interface InferOptions extends OpContext {
  readonly layers: Layers;
}

/**
 * POST /v2/models/{model_name}/infer: the request's tensors and parameters become the /v1 body
 * of the model's op route, which runs through the same pipeline (limits, admission, deadline).
 * A stored layer's request runs as its op's model with the layer's tensors and parameters put in
 * (src/v2/layer-infer.ts). Its body parsers live in this plugin alone: they frame the binary
 * extension.
 */
export async function inferRoute(app: FastifyInstance, opts: InferOptions): Promise<void> {
  const { layers, ...ctx } = opts;
  const { registry, stats } = layers;
  app.removeAllContentTypeParsers();
  const bodies = new JsonBodyParser('v2');
  app.addHook('onClose', async () => bodies.close());
  const parse = inferBodyParser((request, json, done) =>
    bodies.parse(
      json,
      (err, parsed) => (err ? done(err) : done(null, parsed!.value)),
      undefined,
      (extra) => request.admission?.parsing(extra),
    ),
  );
  app.addContentTypeParser(['application/json', BINARY_CONTENT_TYPE], bodyBytesParser(parse, inferCost));
  // Triton's and KServe's Python clients send no content type at all, framed or not.
  app.addContentTypeParser(
    '*',
    bodyBytesParser((request, body, done) => {
      if (request.headers['content-type']) done(new V2Error(415, MEDIA_TYPE));
      else parse(request, body, done);
    }, inferCost),
  );

  for (const versioned of [false, true]) {
    app.withTypeProvider<ZodTypeProvider>().post(
      versioned ? '/models/:model_name/versions/:model_version/infer' : '/models/:model_name/infer',
      {
        config: { guard: 'op' },
        onRequest: knownModelOrLayer(
          (name) => registry.get(name) !== undefined,
          (name) => registry.index().find((e) => e.name === name)?.reason,
        ),
        schema: {
          tags: ['open-inference'],
          operationId: versioned ? 'v2ModelVersionInfer' : 'v2ModelInfer',
          summary: 'Run a model (an op or a stored layer)',
          description:
            "Open Inference Protocol inference. Inputs and outputs are named as the model metadata lists them; op parameters travel in `parameters` (pairs split into `_h` / `_w`). Tensors are FP32 or FP64, in JSON `data` or, with the binary tensor data extension, after the JSON header (`Inference-Header-Content-Length`, `binary_data_size`); `binary_data_output` or an output's `binary_data` asks for binary outputs, answered as application/octet-stream with the same header. The same limits, admission control and deadline as /v1. A stored layer takes only its own inputs (`input` for the forward pass); its weight, bias and parameters are stored, and `parameters.pass` (`forward`, `grad_input`, `grad_parameters`, `backward`) picks the pass run with them (GET /v2/models/{layer} lists each pass's tensors).",
          params: versioned ? VersionedModelParams : AnyModelParams,
          // Every body parser of this route yields the JSON header, so one schema checks them all.
          body: InferenceRequestSchema,
          response: {
            200: {
              description:
                "The outputs: JSON, or the binary framing when any output is binary (the JSON header's length in Inference-Header-Content-Length).",
              content: {
                'application/json': { schema: InferenceResponseSchema },
                [BINARY_CONTENT_TYPE]: { schema: BinaryBodySchema },
              },
            },
            ...errorAnswers,
          },
        },
      },
      async (request, reply) => {
        const name = request.params.model_name;
        const start = process.hrtime.bigint();
        const builtIn = findModel(name);
        // The layer this request runs with, held to its end whatever loads and unloads meanwhile.
        const target = builtIn ?? registry.get(name);
        if (!target) throw new V2Error(404, `model ${name.slice(0, 64)} was unloaded`);
        const header = request.body;
        return recordInference(
          stats,
          name,
          header,
          () => runInference(target, header, binarySectionTensors(binarySection(request)), ctx, request, false),
          ({ view, wanted, results, shapes }) => answer(reply, view, header, wanted, results, shapes),
          start,
        );
      },
    );
  }
}
