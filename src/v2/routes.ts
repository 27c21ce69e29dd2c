import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Config } from '../config.js';
import type { StoredLayer } from '../models/layer.js';
import { packageInfo } from '../package-info.js';
import type { KernelPool } from '../pool.js';
import { guardEveryRoute } from '../route-guards.js';
import type { OpContext } from '../routes/execute-op.js';
import { useV2Errors, V2Error } from './errors.js';
import { inferRoute } from './infer.js';
import { LAYER_PASSES, passTensors } from './layer-infer.js';
import { findModel, type Model } from './models.js';
import { repositoryRoutes } from './repository.js';
import { AnyModelParams, knownModelOrLayer, notReadyAnswer, VersionedModelParams } from './route-schemas.js';
import { LayerMetadataSchema, ServerMetadataSchema } from './schemas.js';
import type { StoredLayers } from './stored-layers.js';

export interface V2Options {
  readonly pool: KernelPool;
  readonly config: Config;
  /** The process's stored layers, shared with gRPC (src/v2/stored-layers.ts). */
  readonly stored: StoredLayers;
}

/** Extensions of the protocol this server speaks (GET /v2 lists them). */
export const EXTENSIONS = ['binary_tensor_data', 'model_repository', 'model_configuration', 'statistics'];

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

/**
 * A stored layer's metadata: its forward pass's tensors, with their channels, and in `parameters`
 * what each pass takes and gives and the parameters the layer fixes.
 */
export function layerMetadataOf(layer: StoredLayer) {
  const passes = Object.fromEntries(LAYER_PASSES.map((p) => [p, passTensors(layer, p)]));
  return {
    name: layer.name,
    versions: ['1'],
    platform: packageInfo.name,
    inputs: passes.forward.inputs.map(({ name, datatype, shape }) => ({ name, datatype, shape })),
    outputs: passes.forward.outputs,
    parameters: { passes, fixed: { ...layer.fixed } },
  };
}

async function v2(app: FastifyInstance, opts: V2Options): Promise<void> {
  const { pool, config, stored } = opts;
  const { layers } = stored;
  const { registry } = layers;
  const known = knownModelOrLayer(
    (name) => registry.get(name) !== undefined,
    (name) => registry.index().find((e) => e.name === name)?.reason,
  );
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
  for (const versioned of [false, true]) {
    typed.get(
      versioned ? '/models/:model_name/versions/:model_version' : '/models/:model_name',
      {
        onRequest: known,
        schema: {
          tags,
          operationId: versioned ? 'v2ModelVersionMetadata' : 'v2ModelMetadata',
          summary: 'Model metadata',
          description:
            "The model's inputs and outputs with their datatype and shape (-1: any size). Shapes are batched; the unbatched forms of /v1 ([C, H, W], [C*kH*kW, L]) are taken too. FP64 works wherever FP32 is listed. Optional inputs: bias, grad_weight, grad_bias; grad_bias is output only with compute_bias. A stored layer lists its forward pass's tensors with their channels, and in `parameters` what each pass takes and gives and the parameters it fixes.",
          params: versioned ? VersionedModelParams : AnyModelParams,
          response: { 200: LayerMetadataSchema },
        },
      },
      async (request) => {
        const name = request.params.model_name;
        const model = findModel(name);
        if (model) return modelMetadataOf(model);
        const layer = registry.get(name);
        if (!layer) throw new V2Error(404, `model ${name.slice(0, 64)} was unloaded`);
        return layerMetadataOf(layer);
      },
    );
  }
  for (const versioned of [false, true]) {
    typed.get(
      versioned ? '/models/:model_name/versions/:model_version/ready' : '/models/:model_name/ready',
      {
        onRequest: known,
        schema: {
          tags,
          operationId: versioned ? 'v2ModelVersionReady' : 'v2ModelReady',
          summary: 'Model readiness',
          description:
            'Every built-in model and serving layer is ready when the server is: they share one worker pool. A layer that is not serving is a 404.',
          params: versioned ? VersionedModelParams : AnyModelParams,
          response: { 200: z.object({ name: z.string(), ready: z.boolean() }), ...notReadyAnswer },
        },
      },
      async (request) => {
        ready();
        return { name: request.params.model_name, ready: true };
      },
    );
  }
  await app.register(inferRoute, { ...ctx, layers });
  await app.register(repositoryRoutes, { stored });
}

/** The Open Inference Protocol (KServe v2) REST API under /v2, beside /v1. */
export async function v2Routes(app: FastifyInstance, opts: V2Options): Promise<void> {
  await app.register(v2, { ...opts, prefix: '/v2' });
}
