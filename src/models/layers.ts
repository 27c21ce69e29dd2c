import { randomUUID } from 'node:crypto';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Piscina } from 'piscina';
import type { MemoryBudget } from '../memory-budget.js';
import { WORKER_NICENESS } from '../pool.js';
import { piscinaTransfer } from '../transfer-list.js';
import { workerExecArgv } from '../worker-exec-argv.js';
import { LayerError, type StoredLayer } from './layer.js';
import { LayerConfigError } from './layer-config.js';
import type { LayerFiles } from './layer-files.js';
import { findLoadValue } from './load-body.js';
import type { LoadOutcome, LoadTask } from './load-worker.js';
import { badLayerName } from './names.js';
import { LayerRegistry } from './registry.js';
import { ModelStatistics } from './stats.js';

export interface LayersOptions {
  /** Bytes all stored layers may hold together (MAX_STORED_BYTES). */
  readonly maxStoredBytes: number;
  readonly maxElements: number;
  /** MODEL_REPOSITORY: read at start, and by a load without files. */
  readonly repository?: string;
  /** Charged with a load's body and decoded copies while it runs. */
  readonly memory?: MemoryBudget;
  /**
   * With several server processes: where each load leaves a copy of the layer's files for the
   * others to load (`<dir>/<name>/<unique>`); they never travel over IPC.
   */
  readonly saveDir?: string;
  /** Names a layer may not take (the built-in models'). */
  readonly reserved?: (name: string) => boolean;
}

export interface Loaded {
  readonly layer: StoredLayer;
  /** The copy of its files, when `saveDir` is set. */
  readonly saved?: string;
  /** The directory the version it replaced was loaded from or saved to, if that version had one. */
  readonly previous?: string;
}

export interface Unloaded {
  /** The directory the version unloaded was loaded from or saved to, if it had one. */
  readonly previous?: string;
}

/**
 * What a load holds at its peak, per byte of its body, resident (garbage not yet collected
 * included): the body, the socket's pieces it arrived in, and the file decoded into shared
 * memory, whose tensors are kept where they lie (src/models/layer-files.ts): 3.04-3.08 x on
 * Node 26 (bench/load-memory.ts: a 64 MiB layer, 85 MiB of base64).
 */
const LOAD_HELD_PER_BODY_BYTE = 3.5;
/**
 * The same for a body src/models/load-body.ts cannot split (its base64 escaped, say), which
 * JSON.parse then reads whole: 3.96-4.51 x. It is known once the body is in, so such a body is
 * admitted by the first factor and charged this one before it is parsed.
 */
const WHOLE_PARSE_HELD_PER_BODY_BYTE = 5;

/** What a load of `bodyBytes` is charged: the bytes it holds at its peak. */
export const loadHeldBytes = (bodyBytes: number, parsedWhole = false): number =>
  Math.ceil(bodyBytes * (parsedWhole ? WHOLE_PARSE_HELD_PER_BODY_BYTE : LOAD_HELD_PER_BODY_BYTE));

/** The load thread ends after this long without a load. */
const LOAD_THREAD_IDLE_MS = 30_000;

/**
 * The stored layers of this process: the registry, the load thread that reads their files, and
 * their statistics. Loads of one name run one after another (the last one sent wins); loads of
 * different names run side by side.
 */
export class Layers {
  readonly registry: LayerRegistry;
  readonly stats = new ModelStatistics();
  readonly #opts: LayersOptions;
  readonly #reserved: (name: string) => boolean;
  readonly #queues = new Map<string, Promise<unknown>>();
  /** The directory each serving layer was loaded from or saved to (its files as the other server processes read them). */
  readonly #sources = new Map<string, string>();
  #threads: Piscina<LoadTask, LoadOutcome> | null = null;

  constructor(opts: LayersOptions) {
    this.#opts = opts;
    this.#reserved = opts.reserved ?? (() => false);
    this.registry = new LayerRegistry({ maxStoredBytes: opts.maxStoredBytes, maxElements: opts.maxElements });
  }

  get repository(): string | undefined {
    return this.#opts.repository;
  }

  /** Every layer of MODEL_REPOSITORY; one that fails is UNAVAILABLE with its reason, the others serve. */
  async loadRepository(): Promise<void> {
    const repository = this.#opts.repository;
    if (repository === undefined) return;
    const names = readdirSync(repository, { withFileTypes: true })
      .filter((d) => d.isDirectory() && !d.name.startsWith('.'))
      .map((d) => d.name)
      .sort();
    for (const name of names) {
      const bad = badLayerName(name, this.#reserved);
      if (bad !== null) {
        this.registry.failed(name.slice(0, 64), bad);
        continue;
      }
      try {
        await this.load(name, new Uint8Array(0));
      } catch (err) {
        if (!(err instanceof LayerError || err instanceof LayerConfigError)) throw err;
      }
    }
  }

  /**
   * Loads (or reloads) `name` from a load request's body (empty: from the repository). On
   * failure the index shows why, the previous version (if any) keeps serving, and the error is
   * thrown: LayerError or LayerConfigError, a client's mistake.
   */
  load(name: string, body: Uint8Array): Promise<Loaded> {
    return this.#load(name, body, undefined);
  }

  /**
   * Refuses a load whose body could not be held now (503) or ever (413), before a byte of it is
   * read: it is charged to the memory budget only once read whole.
   */
  checkLoad(bodyBytes: number): void {
    this.#opts.memory?.check(loadHeldBytes(bodyBytes), 'the load');
  }

  /**
   * Loads `name` from a layer directory a server process saved; nothing to do when the version
   * serving came from that very directory (this process saved it, or loaded it already).
   */
  loadDirectory(name: string, directory: string): Promise<Loaded> {
    return this.#load(name, new Uint8Array(0), directory);
  }

  #load(name: string, body: Uint8Array, directory: string | undefined): Promise<Loaded> {
    const bad = badLayerName(name, this.#reserved);
    if (bad !== null) return Promise.reject(new LayerError(400, bad));
    return this.#serially(name, async () => {
      const previous = this.#sources.get(name);
      const serving = this.registry.get(name);
      if (directory !== undefined && directory === previous && serving) return { layer: serving, previous };
      const charge = this.#opts.memory?.open();
      const saveTo =
        this.#opts.saveDir !== undefined && directory === undefined
          ? join(this.#opts.saveDir, name, randomUUID())
          : undefined;
      try {
        // Where the file's base64 stands, once: a body without it is parsed whole and charged more.
        const value = body.length > 0 ? findLoadValue(body) : null;
        charge?.set(loadHeldBytes(body.length, body.length > 0 && value === null), `the load of ${name}`);
        const files = await this.#files({
          body,
          value,
          name,
          repository: this.#opts.repository,
          directory,
          saveTo,
          maxStoredBytes: this.#opts.maxStoredBytes,
        });
        const layer = this.registry.install(name, files.configText, new Map(files.tensors));
        this.stats.reset(name);
        const source = directory ?? saveTo;
        if (source === undefined) this.#sources.delete(name);
        else this.#sources.set(name, source);
        return { layer, saved: saveTo, previous };
      } catch (err) {
        if (saveTo !== undefined) rmSync(saveTo, { recursive: true, force: true });
        if (err instanceof LayerError || err instanceof LayerConfigError) this.registry.failed(name, err.message);
        throw err;
      } finally {
        charge?.release();
      }
    });
  }

  /** Takes `name` out of service; null if it was not serving. */
  unload(name: string): Promise<Unloaded | null> {
    return this.#serially(name, async () => {
      const previous = this.#sources.get(name);
      this.#sources.delete(name);
      if (!this.registry.unload(name)) return null;
      return previous === undefined ? {} : { previous };
    });
  }

  async close(): Promise<void> {
    await this.#threads?.close();
    this.#threads = null;
  }

  async #files(task: LoadTask): Promise<LayerFiles> {
    const transferList =
      task.body.byteLength > 0 &&
      task.body.buffer instanceof ArrayBuffer &&
      task.body.buffer.byteLength === task.body.byteLength
        ? [task.body.buffer]
        : [];
    const outcome = await this.#pool().run(task, { transferList: piscinaTransfer(transferList) });
    if ('refused' in outcome) throw new LayerError(outcome.refused.status, outcome.refused.message);
    return outcome.files;
  }

  #serially<T>(name: string, work: () => Promise<T>): Promise<T> {
    const before = this.#queues.get(name) ?? Promise.resolve();
    const run = before.then(work, work);
    const settled = run.catch(() => {});
    this.#queues.set(name, settled);
    void settled.then(() => {
      if (this.#queues.get(name) === settled) this.#queues.delete(name);
    });
    return run;
  }

  #pool(): Piscina<LoadTask, LoadOutcome> {
    if (this.#threads) return this.#threads;
    this.#threads = new Piscina({
      filename: new URL('./load-worker.js', import.meta.url).href,
      minThreads: 0,
      maxThreads: 1,
      idleTimeout: LOAD_THREAD_IDLE_MS,
      atomics: 'disabled',
      execArgv: workerExecArgv(),
      niceIncrement: WORKER_NICENESS,
    });
    this.#threads.on('error', () => {});
    return this.#threads;
  }
}
