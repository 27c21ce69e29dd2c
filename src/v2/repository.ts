import type { FastifyInstance, FastifySchemaCompiler } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { bodyBytesParser } from '../body-bytes.js';
import type { StoredLayer } from '../models/layer.js';
import { LAYER_BACKEND } from '../models/layer-config.js';
import { FILE_PARAMETER, LoadRequestSchema, MAX_CONFIG_BYTES, maxFileBytes } from '../models/layer-files.js';
import { badLayerName } from '../models/names.js';
import { zodValidatorCompiler } from '../request-validation.js';
import { base64Length } from '../schemas/tensor.js';
import { V2Error } from './errors.js';
import { layerShapes } from './layer-infer.js';
import { findModel, type Model, models } from './models.js';
import { AnyModelParams, knownModelOrLayer, VersionedModelParams } from './route-schemas.js';
import {
  ModelConfigSchema,
  ModelStatsSchema,
  RepositoryIndexRequestSchema,
  RepositoryIndexSchema,
  V2ErrorSchema,
} from './schemas.js';
import type { StoredLayers } from './stored-layers.js';
import { DATATYPE_OF } from './tensors.js';

/**
 * Triton's model repository, model configuration and statistics extensions, for stored layers
 * (src/models/): the index of layers, load and unload (administrative: ADMIN_API_KEYS), each
 * model's configuration and statistics.
 */

export interface RepositoryOptions {
  /** The process's stored layers and the service-wide changes to them (src/v2/stored-layers.ts). */
  readonly stored: StoredLayers;
}

const tags = ['open-inference'];
const error = (description: string) => ({ description, content: { 'application/json': { schema: V2ErrorSchema } } });

/** The body a load may take: the weights file in base64 (bounded by MAX_STORED_BYTES), the configuration, JSON's framing. */
export const loadBodyLimit = (maxStoredBytes: number): number =>
  base64Length(maxFileBytes(maxStoredBytes)) + 2 * MAX_CONFIG_BYTES;

/** A configuration in Triton's JSON form, of a layer or of a built-in model (which fixes nothing). */
export function configOf(name: string, layer: StoredLayer | undefined, model: Model | undefined) {
  if (layer) {
    const shapes = layerShapes(layer);
    const dataType = `TYPE_${DATATYPE_OF[layer.dtype]}`;
    return {
      name,
      backend: LAYER_BACKEND,
      max_batch_size: 0,
      input: [{ name: 'input', data_type: dataType, dims: shapes.input! }],
      output: [{ name: 'output', data_type: dataType, dims: shapes.output! }],
      parameters: {
        op: { string_value: layer.op },
        ...Object.fromEntries(Object.entries(layer.fixed).map(([k, v]) => [k, { string_value: String(v) }])),
      },
    };
  }
  const m = model!;
  const dims = (shape: readonly number[]) => [...shape];
  return {
    name,
    backend: LAYER_BACKEND,
    max_batch_size: 0,
    input: m.inputs.map((i) => ({ name: i.name, data_type: 'TYPE_FP32', dims: dims(i.shape) })),
    output: m.outputs.map((o) => ({ name: o.name, data_type: 'TYPE_FP32', dims: dims(o.shape) })),
    parameters: {},
  };
}

/** The load body is read as bytes and parsed in the load thread; params are checked as usual. */
const rawBody: FastifySchemaCompiler<unknown> = (route) =>
  route.httpPart === 'body' ? (data) => ({ value: data }) : zodValidatorCompiler(route as never);

const statsUnavailableAnswer = error(
  'With several server processes: the primary, which gathers their statistics, did not answer; retry.',
);

export async function repositoryRoutes(app: FastifyInstance, opts: RepositoryOptions): Promise<void> {
  const { stored } = opts;
  const { layers } = stored;
  const { registry } = layers;
  const typed = app.withTypeProvider<ZodTypeProvider>();
  const known = knownModelOrLayer(
    (name) => registry.get(name) !== undefined,
    (name) => registry.index().find((e) => e.name === name)?.reason,
  );

  typed.post(
    '/repository/index',
    {
      schema: {
        tags,
        operationId: 'v2RepositoryIndex',
        summary: 'Repository index',
        description:
          'Every stored layer with its state: READY, or UNAVAILABLE with the reason (a failed load, or unloaded). `{"ready": true}`: the ready ones only. The built-in ops are not listed: they are always there.',
        body: RepositoryIndexRequestSchema,
        response: { 200: RepositoryIndexSchema, 400: error('The body is not {"ready": boolean}.') },
      },
    },
    async (request) => registry.index(request.body?.ready === true),
  );

  const statsOf = async (names: readonly string[]) => ({ model_stats: await stored.statistics(names) });
  const allNames = () => [...models.map((m) => m.name), ...registry.ready];
  typed.get(
    '/models/stats',
    {
      schema: {
        tags,
        operationId: 'v2ModelStatisticsAll',
        summary: 'Statistics of every model',
        description:
          "Triton's statistics extension: the counts and durations of each model's requests since it was loaded (built-in ops since start).",
        response: { 200: ModelStatsSchema, 503: statsUnavailableAnswer },
      },
    },
    async () => statsOf(allNames()),
  );
  for (const url of ['/models/:model_name/stats', '/models/:model_name/versions/:model_version/stats']) {
    typed.get(
      url,
      {
        onRequest: known,
        schema: {
          tags,
          operationId: url.includes('versions') ? 'v2ModelVersionStatistics' : 'v2ModelStatistics',
          summary: 'Statistics of a model',
          description: 'The statistics of one model (version 1, its only one).',
          params: url.includes('versions') ? VersionedModelParams : AnyModelParams,
          response: {
            200: ModelStatsSchema,
            404: error('No such model or version.'),
            503: statsUnavailableAnswer,
          },
        },
      },
      async (request) => statsOf([request.params.model_name]),
    );
  }
  for (const url of ['/models/:model_name/config', '/models/:model_name/versions/:model_version/config']) {
    typed.get(
      url,
      {
        onRequest: known,
        schema: {
          tags,
          operationId: url.includes('versions') ? 'v2ModelVersionConfig' : 'v2ModelConfig',
          summary: 'Configuration of a model',
          description:
            "Triton's model configuration extension: a stored layer's config.json as it serves (its op and parameters, its tensors' dims with -1 for free ones); a built-in op's tensors.",
          params: url.includes('versions') ? VersionedModelParams : AnyModelParams,
          response: { 200: ModelConfigSchema, 404: error('No such model or version.') },
        },
      },
      async (request) => {
        const name = request.params.model_name;
        const layer = findModel(name) ? undefined : registry.get(name);
        if (!layer && !findModel(name)) throw new V2Error(404, `model ${name.slice(0, 64)} was unloaded`);
        return configOf(name, layer, findModel(name));
      },
    );
  }

  await app.register(async (admin) => {
    admin.removeAllContentTypeParsers();
    // tritonclient sends the load body with no content type; any type is read as JSON bytes.
    const raw = bodyBytesParser((_request, body, done) => done(null, body));
    admin.addContentTypeParser('*', raw);
    const adminTyped = admin.withTypeProvider<ZodTypeProvider>();
    const nameOf = (name: string) => {
      const bad = badLayerName(name, (n) => findModel(n) !== undefined);
      if (bad) throw new V2Error(400, bad);
      return name;
    };
    const bytesOf = (body: unknown) =>
      Buffer.isBuffer(body) ? new Uint8Array(body.buffer, body.byteOffset, body.byteLength) : new Uint8Array(0);

    adminTyped.post(
      '/repository/models/:model_name/load',
      {
        config: { guard: 'admin' },
        bodyLimit: loadBodyLimit(layers.registry.maxStoredBytes),
        // After the key check (auth's onRequest runs first): strangers learn nothing of the budget.
        onRequest: async (request) => {
          const declared = Number(request.headers['content-length']);
          if (Number.isSafeInteger(declared) && declared > 0) layers.checkLoad(declared);
        },
        validatorCompiler: rawBody,
        schema: {
          tags,
          operationId: 'v2RepositoryModelLoad',
          summary: 'Load (or reload) a stored layer',
          description: `Administrative (ADMIN_API_KEYS). With \`parameters.config\` (config.json's text) and \`parameters["${FILE_PARAMETER}"]\` (the safetensors file in base64), as tritonclient's load_model(name, config=..., files=...) sends them; without them, from MODEL_REPOSITORY. Atomic: a load that fails leaves the previous version serving. Every server process serves the layer when the answer comes.`,
          params: AnyModelParams,
          body: LoadRequestSchema.optional(),
          response: {
            200: z.object({}).describe('Loaded: every server process serves it.'),
            400: error('A bad name, body, config.json or safetensors file, or a weight the op cannot take.'),
            401: error('Keys are configured and the bearer token is missing or unknown.'),
            403: error('The bearer token is an API key, not an administrative one.'),
            413: error('The layer would pass MAX_STORED_BYTES or MAX_ELEMENTS, or the body the load limit.'),
            422: error('The tensors disagree with each other or with the configuration (channels, groups, dtypes).'),
            503: error(
              'The memory budget is taken by requests in flight, or another server process could not load the layer (every process then serves the version before); retry.',
            ),
          },
        },
      },
      async (request) => {
        const name = nameOf(request.params.model_name);
        await stored.load(name, bytesOf(request.body));
        return {};
      },
    );
    adminTyped.post(
      '/repository/models/:model_name/unload',
      {
        config: { guard: 'admin' },
        bodyLimit: 64 * 1024,
        validatorCompiler: rawBody,
        schema: {
          tags,
          operationId: 'v2RepositoryModelUnload',
          summary: 'Unload a stored layer',
          description:
            'Administrative (ADMIN_API_KEYS). Requests already running on the layer finish with it; later ones get 404. The index then shows it UNAVAILABLE, "unloaded".',
          params: AnyModelParams,
          body: z.strictObject({ parameters: z.record(z.string(), z.unknown()).optional() }).optional(),
          response: {
            200: z.object({}).describe('Unloaded from every server process.'),
            400: error('A bad name or body.'),
            401: error('Keys are configured and the bearer token is missing or unknown.'),
            403: error('The bearer token is an API key, not an administrative one.'),
            404: error('No such layer is serving.'),
            503: error('Another server process could not unload it (every process then serves it still); retry.'),
          },
        },
      },
      async (request) => {
        const name = nameOf(request.params.model_name);
        const body = bytesOf(request.body);
        if (body.length > 0) {
          let json: unknown;
          try {
            json = JSON.parse(Buffer.from(body).toString('utf8'));
          } catch {
            throw new V2Error(400, 'the body is not JSON');
          }
          const ok = z.strictObject({ parameters: z.record(z.string(), z.unknown()).optional() }).safeParse(json);
          if (!ok.success) throw new V2Error(400, 'the body must be {"parameters": {...}} or empty');
        }
        await stored.unload(name);
        return {};
      },
    );
  });
}
