import { buildLayer, LayerError, type SharedTensor, type StoredLayer } from './layer.js';
import { LayerConfigError, parseLayerConfig } from './layer-config.js';

/**
 * The stored layers of this process, by name, as the repository index shows them: READY (it
 * serves) or UNAVAILABLE (its last load failed, and no earlier version serves; `reason` says
 * why). A load is atomic: the new layer is built whole, checked and counted against
 * MAX_STORED_BYTES before it replaces the old one in one step, so a failed load leaves the
 * previous version serving. A request holds the layer it started with until it ends: an unload or
 * a reload in the meantime changes what the next request finds, never what a running one uses.
 */

export type LayerState = 'READY' | 'UNAVAILABLE';

export interface IndexEntry {
  readonly name: string;
  readonly version: string;
  readonly state: LayerState;
  readonly reason: string;
}

interface Entry {
  readonly layer: StoredLayer | null;
  readonly reason: string;
  /** The configuration text the layer was loaded from. */
  readonly configText: string | null;
}

export interface RegistryOptions {
  readonly maxStoredBytes: number;
  readonly maxElements: number;
}

export class LayerRegistry {
  readonly #entries = new Map<string, Entry>();
  readonly #opts: RegistryOptions;

  constructor(opts: RegistryOptions) {
    this.#opts = opts;
  }

  get maxStoredBytes(): number {
    return this.#opts.maxStoredBytes;
  }

  /** Bytes of every READY layer's tensors. */
  get storedBytes(): number {
    let n = 0;
    for (const e of this.#entries.values()) n += e.layer?.bytes ?? 0;
    return n;
  }

  /** The layer serving under `name`, if any. */
  get(name: string): StoredLayer | undefined {
    return this.#entries.get(name)?.layer ?? undefined;
  }

  /** Whether the index lists `name` (ready or not). */
  has(name: string): boolean {
    return this.#entries.has(name);
  }

  /** Names of the serving layers, sorted. */
  get ready(): string[] {
    return [...this.#entries]
      .filter(([, e]) => e.layer !== null)
      .map(([n]) => n)
      .sort();
  }

  index(readyOnly = false): IndexEntry[] {
    return [...this.#entries]
      .filter(([, e]) => !readyOnly || e.layer !== null)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([name, e]) => ({ name, version: '1', state: e.layer ? 'READY' : 'UNAVAILABLE', reason: e.reason }));
  }

  /**
   * Builds the layer from its files and puts it in service in place of any older one; throws
   * LayerError (or LayerConfigError) and changes nothing when it cannot.
   */
  install(name: string, configText: string, tensors: ReadonlyMap<string, SharedTensor>): StoredLayer {
    const config = parseLayerConfig(configText);
    if (config.name !== undefined && config.name !== name)
      throw new LayerConfigError(`the configuration names model "${config.name.slice(0, 64)}", not ${name}`);
    const layer = buildLayer(name, config, tensors, this.#opts.maxElements);
    const others = this.storedBytes - (this.get(name)?.bytes ?? 0);
    if (others + layer.bytes > this.#opts.maxStoredBytes)
      throw new LayerError(
        413,
        `${name} holds ${layer.bytes} bytes; with the ${others} bytes of the other layers that is over MAX_STORED_BYTES (${this.#opts.maxStoredBytes})`,
      );
    this.#entries.set(name, { layer, reason: '', configText });
    return layer;
  }

  /** Records a failed load: the index shows why, unless an earlier version still serves. */
  failed(name: string, reason: string): void {
    const entry = this.#entries.get(name);
    if (entry?.layer) return;
    this.#entries.set(name, { layer: null, reason, configText: null });
  }

  /** The configuration text of a serving layer. */
  configText(name: string): string | undefined {
    return this.#entries.get(name)?.configText ?? undefined;
  }

  /** Takes `name` out of service (the index shows it UNAVAILABLE, "unloaded", as Triton's does); false if it was not serving. */
  unload(name: string): boolean {
    const serving = this.get(name) !== undefined;
    if (this.#entries.has(name)) this.#entries.set(name, { layer: null, reason: 'unloaded', configText: null });
    return serving;
  }
}
