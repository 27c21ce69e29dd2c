import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Config } from '../config.js';
import { packageInfo } from '../package-info.js';
import type { KernelPool } from '../pool.js';
import { guardEveryRoute } from '../route-guards.js';
import type { OpContext } from '../routes/execute-op.js';
import { useV2Errors, V2Error } from './errors.js';
import { inferRoute } from './infer.js';
import { findModel, type Model } from './models.js';
import { knownModel, ModelParams, notReadyAnswer } from './route-schemas.js';
import { ModelMetadataSchema, ServerMetadataSchema } from './schemas.js';

export interface V2Options {
  readonly pool: KernelPool;
  readonly config: Config;
}

/** Extensions of the protocol this server speaks (GET /v2 lists them). */
export const EXTENSIONS = ['binary_tensor_data'];

const tags = ['open-inference'];

/** Why the server cannot take inferences now, or null when it can (REST's and gRPC's ServerReady). */
export function notReady(pool: KernelPool): string | null {
  if (pool.closing) return 'the service is shutting down';
  if (pool.workers === 0) return 'the worker pool is starting';
  if (pool.saturated) return `the work queue is full (${pool.queueSize} tasks waiting)`;
  return null;
}

/** A model's metadata (REST's and gRPC's ModelMetadata). */
export function modelMetadataOf(model: Model) {
  const tensor = (t: { name: string; shape: readonly number[] }) => ({
    name: t.name,
    datatype: 'FP32' as const,
    shape: [...t.shape],
  });
  return {
    name: model.name,
    versions: ['1'],
    platform: packageInfo.name,
    inputs: model.inputs.map(tensor),
    outputs: model.outputs.map(tensor),
  };
}

async function v2(app: FastifyInstance, opts: V2Options): Promise<void> {
  const { pool, config } = opts;
  const ctx: OpContext = {
    pool,
    limits: { maxElements: config.maxElements, maxMacs: config.maxMacs },
    requestTimeoutMs: config.requestTimeoutMs,
  };
  const ready = () => {
    const reason = notReady(pool);
    if (reason) throw new V2Error(503, reason);
  };
  useV2Errors(app);
  app.addHook('onRoute', guardEveryRoute);
  const typed = app.withTypeProvider<ZodTypeProvider>();

  typed.get(
    '',
    {
      schema: {
        tags,
        operationId: 'v2ServerMetadata',
        summary: 'Server metadata',
        description: 'Name, version and the protocol extensions the server speaks.',
        response: { 200: ServerMetadataSchema },
      },
    },
    async () => ({ name: packageInfo.name, version: packageInfo.version, extensions: EXTENSIONS }),
  );
  typed.get(
    '/health/live',
    {
      schema: {
        tags,
        operationId: 'v2ServerLive',
        summary: 'Server liveness',
        description: '200 while the process runs.',
        response: { 200: z.object({ live: z.boolean() }) },
      },
    },
    async () => ({ live: true }),
  );
  typed.get(
    '/health/ready',
    {
      schema: {
        tags,
        operationId: 'v2ServerReady',
        summary: 'Server readiness',
        description: '200 once the worker pool is up and its queue has room; 503 with the reason otherwise.',
        response: { 200: z.object({ ready: z.boolean() }), ...notReadyAnswer },
      },
    },
    async () => {
      ready();
      return { ready: true };
    },
  );
  typed.get(
    '/models/:model_name',
    {
      onRequest: knownModel,
      schema: {
        tags,
        operationId: 'v2ModelMetadata',
        summary: 'Model metadata',
        description:
          "The model's inputs and outputs with their datatype and shape (-1: any size). Shapes are batched; the unbatched forms of /v1 ([C, H, W], [C*kH*kW, L]) are taken too. FP64 works wherever FP32 is listed. Optional inputs: bias, grad_weight, grad_bias; grad_bias is output only with compute_bias.",
        params: ModelParams,
        response: { 200: ModelMetadataSchema },
      },
    },
    async (request) => modelMetadataOf(findModel(request.params.model_name)!),
  );
  typed.get(
    '/models/:model_name/ready',
    {
      onRequest: knownModel,
      schema: {
        tags,
        operationId: 'v2ModelReady',
        summary: 'Model readiness',
        description: 'Every model is ready when the server is: they share one worker pool.',
        params: ModelParams,
        response: { 200: z.object({ name: z.string(), ready: z.boolean() }), ...notReadyAnswer },
      },
    },
    async (request) => {
      ready();
      return { name: request.params.model_name, ready: true };
    },
  );
  await app.register(inferRoute, ctx);
}

/** The Open Inference Protocol (KServe v2) REST API under /v2, beside /v1. */
export async function v2Routes(app: FastifyInstance, opts: V2Options): Promise<void> {
  await app.register(v2, { ...opts, prefix: '/v2' });
}
