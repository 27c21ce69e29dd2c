import type { FastifyBaseLogger } from 'fastify';
import { layerCopiesDir } from '../cluster/layer-copies.js';
import type { ClusterLink } from '../cluster/link.js';
import type { Config } from '../config.js';
import type { MemoryBudget } from '../memory-budget.js';
import { Layers } from '../models/layers.js';
import { findModel } from './models.js';

/** Tells every server process of a load (with the copy of its files) or unload, once this one has done it. */
export type PublishLayer = (action: 'load' | 'unload', name: string, directory?: string) => Promise<void>;

export interface StoredLayers {
  readonly layers: Layers;
  /** Set in a server process of several (src/cluster). */
  readonly publish?: PublishLayer;
}

/**
 * The process's one store of layers, which REST (/v2) and gRPC both serve: MODEL_REPOSITORY read,
 * and, in a server process of several, what the others loaded or unloaded since start done here
 * before this one listens, each later change reaching all of them.
 */
export async function openStoredLayers(
  config: Config,
  opts: { readonly memory?: MemoryBudget; readonly cluster?: ClusterLink; readonly log: FastifyBaseLogger },
): Promise<StoredLayers> {
  const { cluster } = opts;
  const layers = new Layers({
    maxStoredBytes: config.maxStoredBytes,
    maxElements: config.maxElements,
    repository: config.modelRepository,
    memory: opts.memory,
    saveDir: cluster ? layerCopiesDir(process.ppid) : undefined,
    reserved: (name) => findModel(name) !== undefined,
  });
  await layers.loadRepository();
  if (!cluster) return { layers };
  cluster.onLayerOrder(async (order) => {
    if (order.action === 'load') await layers.loadDirectory(order.name, order.directory!);
    else await layers.unload(order.name);
  });
  for (const { name, directory } of await cluster.layerSet()) {
    if (directory === null) await layers.unload(name);
    else
      await layers
        .loadDirectory(name, directory)
        .catch((err: unknown) => opts.log.error({ err, name }, 'layer load failed'));
  }
  return { layers, publish: (action, name, directory) => cluster.publishLayer(action, name, directory) };
}
