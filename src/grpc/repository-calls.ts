import type { StoredLayer } from '../models/layer.js';
import { badLayerName } from '../models/names.js';
import { V2Error } from '../v2/errors.js';
import { findModel, type Model, models } from '../v2/models.js';
import { configOf } from '../v2/repository.js';
import type { GrpcContext, Handler } from './inference-service.js';
import { loadBodyOf } from './load-message.js';
import type { ModelRequest, RepositoryIndexRequest, RepositoryModelRequest } from './proto.js';

/**
 * Triton's model repository, model configuration and statistics extensions over gRPC, for the
 * stored layers REST serves (src/v2/repository.ts): the same store, the same operations of it,
 * the same answers and refusals. Loads and unloads are administrative (ADMIN_API_KEYS).
 */

export interface RepositoryContext extends GrpcContext {
  /** A built-in model or a serving layer of that name and version, or NOT_FOUND. */
  readonly targetNamed: (name: string, version: string | undefined) => Model | StoredLayer;
}

/** A layer name a load or unload may take, or INVALID_ARGUMENT with REST's message. */
function layerName(name: string): string {
  const bad = badLayerName(name, (n) => findModel(n) !== undefined);
  if (bad) throw new V2Error(400, bad);
  return name;
}

export function repositoryCalls(ctx: RepositoryContext) {
  const { stored, targetNamed } = ctx;
  const { registry } = stored.layers;

  const repositoryIndex: Handler<RepositoryIndexRequest, unknown> = (call) => ({
    models: registry.index(call.request.ready === true),
  });

  const modelConfig: Handler<ModelRequest, unknown> = (call) => {
    const name = call.request.name ?? '';
    const target = targetNamed(name, call.request.version);
    return 'route' in target
      ? { config: configOf(name, undefined, target) }
      : { config: configOf(name, target, undefined) };
  };

  const modelStatistics: Handler<ModelRequest, unknown> = async (call) => {
    const name = call.request.name ?? '';
    if (name !== '') targetNamed(name, call.request.version);
    // Empty: every model, as GET /v2/models/stats lists them.
    const names = name === '' ? [...models.map((m) => m.name), ...registry.ready] : [name];
    return { model_stats: await stored.statistics(names) };
  };

  const load: Handler<RepositoryModelRequest, unknown> = async (call, finally_) => {
    const name = layerName(call.request.model_name ?? '');
    // The message's files stay held (the call holds them) beside the body the load is charged
    // for, until the call ends.
    const message = ctx.app.memoryBudget.open();
    finally_(() => message.release());
    let files = 0;
    for (const p of Object.values(call.request.parameters ?? {})) files += p.bytes_param?.length ?? 0;
    message.set(files, 'the load message');
    // As REST refuses a body it could not hold before reading it: here before it is made.
    const body = loadBodyOf(call.request.parameters, (bytes) => stored.layers.checkLoad(bytes));
    await stored.load(name, body);
    return {};
  };

  const unload: Handler<RepositoryModelRequest, unknown> = async (call) => {
    const name = layerName(call.request.model_name ?? '');
    await stored.unload(name);
    return {};
  };

  return {
    RepositoryIndex: repositoryIndex,
    ModelConfig: modelConfig,
    ModelStatistics: modelStatistics,
    RepositoryModelLoad: load,
    RepositoryModelUnload: unload,
  };
}
