import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { FloatArray } from '../../workers/geometry.js';
import type { ResultName } from '../../workers/tasks.js';
import { bodyBytesParser, jsonCost } from '../body-bytes.js';
import { type BodyCost, binaryBodyCost } from '../memory-model.js';
import { executeOp, type OpCaller, type OpContext } from '../routes/execute-op.js';
import { encodeTensor } from '../tensor/codec.js';
import { JsonBodyParser } from '../tensor/off-loop-parse.js';
import { dtypeOf, joined, piecesOf, type Values } from '../tensor/pieces.js';
import { BINARY_CONTENT_TYPE, binarySection, frameBinary, HEADER_LENGTH, inferBodyParser } from './binary.js';
import { MEDIA_TYPE, V2Error } from './errors.js';
import { findModel, type Model } from './models.js';
import { BINARY_DATA_OUTPUT, v1Body } from './parameters.js';
import { errorAnswers, knownModel, ModelParams } from './route-schemas.js';
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
 * same pipeline (limits, admission, deadline, kernels). `binaryByDefault`: whether an output
 * whose request does not say is answered as raw bytes (gRPC) or as JSON numbers (REST).
 */
export async function runInference(
  model: Model,
  header: InferenceRequest,
  binary: BinaryTensors,
  ctx: OpContext,
  caller: FastifyRequest | OpCaller,
  binaryByDefault: boolean,
): Promise<Inference> {
  const tensors = tensorSources(model, header.inputs, binary);
  const body = v1Body(model, header.parameters, tensors);
  // Unknown or impossible outputs fail before the work, not after it.
  if (header.outputs) wantedOutputs(model, header, body, [], binaryByDefault);
  const { results, shapes } = await executeOp(model.route, body, tensors, ctx, caller);
  return { wanted: wantedOutputs(model, header, body, Object.keys(shapes), binaryByDefault), results, shapes };
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

/**
 * POST /v2/models/{model_name}/infer: the request's tensors and parameters become the /v1 body
 * of the model's op route, which runs through the same pipeline (limits, admission, deadline).
 * Its body parsers live in this plugin alone: they frame the binary extension.
 */
export async function inferRoute(app: FastifyInstance, ctx: OpContext): Promise<void> {
  app.removeAllContentTypeParsers();
  const bodies = new JsonBodyParser('v2');
  app.addHook('onClose', async () => bodies.close());
  const parse = inferBodyParser((_request, json, done) =>
    bodies.parse(json, (err, parsed) => (err ? done(err) : done(null, parsed!.value))),
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

  app.withTypeProvider<ZodTypeProvider>().post(
    '/models/:model_name/infer',
    {
      config: { guard: 'op' },
      onRequest: knownModel,
      schema: {
        tags: ['open-inference'],
        operationId: 'v2ModelInfer',
        summary: 'Run a model (an op)',
        description:
          "Open Inference Protocol inference. Inputs and outputs are named as the model metadata lists them; op parameters travel in `parameters` (pairs split into `_h` / `_w`). Tensors are FP32 or FP64, in JSON `data` or, with the binary tensor data extension, after the JSON header (`Inference-Header-Content-Length`, `binary_data_size`); `binary_data_output` or an output's `binary_data` asks for binary outputs, answered as application/octet-stream with the same header. The same limits, admission control and deadline as /v1.",
        params: ModelParams,
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
      const model = findModel(request.params.model_name)!;
      const header = request.body;
      const { wanted, results, shapes } = await runInference(
        model,
        header,
        binarySectionTensors(binarySection(request)),
        ctx,
        request,
        false,
      );
      return answer(reply, model, header, wanted, results, shapes);
    },
  );
}
