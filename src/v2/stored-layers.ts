import type { FastifyBaseLogger } from 'fastify';
import { layerCopiesDir } from '../cluster/layer-copies.js';
import type { ClusterLink } from '../cluster/link.js';
import type { Config } from '../config.js';
import type { MemoryBudget } from '../memory-budget.js';
import { LayerError } from '../models/layer.js';
import { LayerConfigError } from '../models/layer-config.js';
import { Layers } from '../models/layers.js';
import { addUpStats, type ModelStat } from '../models/stats.js';
import { V2Error } from './errors.js';
import { findModel } from './models.js';

/**
 * The process's one store of layers, and the service-wide changes to it, which REST (/v2,
 * src/v2/repository.ts) and gRPC (src/grpc/repository-calls.ts) both serve: one sequence for a
 * load, one for an unload, one way to count statistics.
 */
export interface StoredLayers {
  readonly layers: Layers;
  /** Loads (or reloads) a layer from a load body; every server process serves it once this resolves. */
  load(name: string, body: Uint8Array): Promise<void>;
  /** Unloads a layer from every server process (404 if it is not serving). */
  unload(name: string): Promise<void>;
  /** The statistics of the models named, of the whole service. */
  statistics(names: readonly string[]): Promise<ModelStat[]>;
}

/** A load or unload refused for the request's own sake: its status and message. */
export function refusal(err: unknown): never {
  if (err instanceof LayerError) throw new V2Error(err.status, err.message);
  if (err instanceof LayerConfigError) throw new V2Error(400, `config.json: ${err.message}`);
  throw err;
}

/**
 * This process made the change but the service could not follow (another process lacked room or
 * memory for it, or the primary did not answer): not the client's doing, and every process was
 * ordered back to the version before.
 */
function notEverywhere(err: unknown): never {
  throw new V2Error(503, (err as Error).message);
}

function statsUnavailable(err: unknown): never {
  throw new V2Error(
    503,
    `the statistics of the other server processes could not be gathered: ${(err as Error).message}`,
  );
}

/**
 * Opens the store: MODEL_REPOSITORY read, and, in a server process of several, what the others
 * loaded or unloaded since start done here before this one listens; each later change is ordered
 * by the primary for every process, this one included (src/cluster/layer-changes.ts).
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
    saveDir: cluster ? layerCopiesDir() : undefined,
    reserved: (name) => findModel(name) !== undefined,
  });
  await layers.loadRepository();
  if (cluster) {
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
    cluster.shareStats((names) => names.map((n) => layers.stats.of(n)));
  }
  return {
    layers,
    async load(name, body) {
      const { saved, previous } = await layers.load(name, body).catch(refusal);
      await cluster?.publishLayer('load', name, saved, previous).catch(notEverywhere);
    },
    async unload(name) {
      const unloaded = await layers.unload(name);
      if (unloaded === null) throw new V2Error(404, `no layer ${name} is serving`);
      await cluster?.publishLayer('unload', name, undefined, unloaded.previous).catch(notEverywhere);
    },
    async statistics(names) {
      if (!cluster) return names.map((n) => layers.stats.of(n));
      return addUpStats(names, await cluster.serviceStats(names).catch(statsUnavailable));
    },
  };
}
