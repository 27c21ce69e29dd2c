import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { V2Error } from './errors.js';
import { findModel, type Model, modelNames } from './models.js';
import { V2ErrorSchema } from './schemas.js';

/** What the /v2 routes share: the model path parameter and the protocol's error answers. */

export const ModelParams = z.object({
  model_name: z.enum(modelNames).describe('The model: one op, e.g. `conv_transpose2d`, `conv2d_grad_input`, `im2col`.'),
});

/** The model of that name, or a 404 (REST and gRPC). */
export function modelNamed(name: string): Model {
  const model = findModel(name);
  if (!model) throw new V2Error(404, `no model ${name.slice(0, 64)}; the models are ${modelNames.join(', ')}`);
  return model;
}

/** An unknown model is a 404 before its body is even read. */
export async function knownModel(request: FastifyRequest, _reply: FastifyReply): Promise<void> {
  modelNamed((request.params as { model_name?: string }).model_name ?? '');
}

const error = (description: string) => ({ description, content: { 'application/json': { schema: V2ErrorSchema } } });

export const notReadyAnswer = { 503: error('Not ready: starting, shutting down, or the work queue is full.') };

export const errorAnswers = {
  400: error('Malformed JSON or binary framing, a schema violation, an unknown input, output or parameter.'),
  401: error('API keys are configured and the bearer token is missing or unknown.'),
  404: error('No such model.'),
  408: error(
    'The body arrived slower than MIN_BODY_BYTES_PER_SECOND, or not within REQUEST_TIMEOUT_MS; the connection is closed.',
  ),
  413: error(
    'Body over MAX_BODY_BYTES, a tensor or result over MAX_ELEMENTS, cost over MAX_MACS, or more memory than MEMORY_BUDGET_BYTES could ever hold.',
  ),
  415: error('A content type other than application/json or application/octet-stream.'),
  422: error('Well-formed but inconsistent: channels, groups, output size, output_padding, mixed datatypes, shapes.'),
  503: error('Queue full, memory budget taken by requests in flight, or shutting down; see Retry-After.'),
  504: error('REQUEST_TIMEOUT_MS passed; the work was cancelled.'),
};

/** The model path parameter of the routes that take stored layers too (their names are the operator's). */
export const AnyModelParams = z.object({
  model_name: z
    .string()
    .min(1)
    .max(256)
    .describe('The model: a built-in op (`conv_transpose2d`, `conv2d_grad_input`, `im2col`, ...) or a stored layer.'),
});

/** The model and version path parameters of the versioned routes: a model has version 1 only. */
export const VersionedModelParams = AnyModelParams.extend({
  model_version: z.string().max(64).describe('The version: every model has version `1` only.'),
});

/**
 * A 404 for a model neither built in nor serving as a layer (`why`: the index's reason for a
 * layer that is not serving), or for a version other than 1 (REST and gRPC).
 */
export function checkModelOrLayer(
  name: string,
  version: string | undefined,
  serving: (name: string) => boolean,
  why: (name: string) => string | undefined,
): void {
  if (!findModel(name) && !serving(name)) {
    const reason = why(name);
    throw new V2Error(
      404,
      reason !== undefined
        ? `model ${name.slice(0, 64)} is not serving: ${reason}`
        : `no model ${name.slice(0, 64)}; the models are ${modelNames.join(', ')}, and the stored layers POST /v2/repository/index lists`,
    );
  }
  if (version !== undefined && version !== '1')
    throw new V2Error(404, `model ${name.slice(0, 64)} has no version ${version.slice(0, 64)}; it has version 1`);
}

/** An unknown model (neither built in nor a serving layer) is a 404 before its body is read. */
export const knownModelOrLayer =
  (serving: (name: string) => boolean, why: (name: string) => string | undefined) =>
  async (request: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    const params = request.params as { model_name?: string; model_version?: string };
    checkModelOrLayer(params.model_name ?? '', params.model_version, serving, why);
  };
