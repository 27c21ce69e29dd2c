import type { Registry } from 'prom-client';
import type { ModelStat } from '../models/stats.js';
import {
  type ClusterState,
  isOurs,
  type LayerOrder,
  type LayersAnswer,
  type SharedMetrics,
  type ToPrimary,
  type ToServer,
} from './messages.js';

/** How long a server process waits for the primary's answer before giving up on it. */
const ANSWER_TIMEOUT_MS = 5000;
/** How long a load or unload waits for every other server process (each reads the layer from disk). */
const LAYER_TIMEOUT_MS = 120_000;
/** Models whose statistics one question asks for: a longer list is asked in parts, so no message grows with it. */
export const STATS_NAMES_PER_QUESTION = 256;

/** This process's own statistics of the models named. */
export type StatsSource = (names: readonly string[]) => ModelStat[];

/** What a server process does when the primary orders a load or unload of a stored layer. */
export type LayerOrderHandler = (order: LayerOrder) => Promise<void>;

type Waiting = { resolve: (m: ToServer) => void; reject: (e: Error) => void; timer: NodeJS.Timeout };

/** What a server process needs of the channel it was forked with (the process itself, in production). */
export interface Channel {
  send?(message: unknown): boolean;
  connected?: boolean;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  on(event: 'disconnect', listener: () => void): unknown;
}

/**
 * A server process's line to the primary (src/cluster/primary.ts): the service's state for
 * readiness, and the questions only the primary can answer for the whole service (its metrics,
 * a client's count against the rate limit).
 */
export class ClusterLink {
  readonly #channel: Channel;
  readonly #waiting = new Map<number, Waiting>();
  #nextId = 1;
  #state: ClusterState | null = null;
  #registry: Registry | null = null;
  #stats: StatsSource | null = null;
  #lost = false;
  /** Asks for kernel slots not yet granted: what to do when they are. */
  readonly #slotAsks = new Map<number, () => void>();
  #onLayerOrder: LayerOrderHandler | null = null;
  /** Orders that came before a handler was set (the process is still starting). */
  readonly #earlyOrders: LayerOrder[] = [];

  constructor(channel: Channel = process) {
    this.#channel = channel;
    channel.on('message', (message) => {
      if (isOurs<ToServer>(message)) this.#receive(message);
    });
    channel.on('disconnect', () => {
      this.#lost = true;
      // Nobody hands out slots any more: what waited for one runs (the process is draining).
      for (const granted of this.#slotAsks.values()) granted();
      this.#slotAsks.clear();
      for (const [id, w] of this.#waiting) {
        clearTimeout(w.timer);
        this.#waiting.delete(id);
        w.reject(new Error('the primary process is gone'));
      }
    });
  }

  /** Why this process should not be sent traffic on the service's account, or null. */
  get notReady(): string | null {
    if (this.#lost) return 'the primary process is gone';
    const s = this.#state;
    if (s === null) return 'the primary has not yet said that every server process is up';
    if (s.draining) return 'the service is shutting down';
    if (s.up < s.of)
      return `${s.of - s.up} of ${s.of} server processes ${s.of - s.up === 1 ? 'is' : 'are'} down (restarting)`;
    return null;
  }

  /** Lets the primary read this process's metrics to add them to the other processes'. */
  shareMetrics(registry: Registry): void {
    this.#registry = registry;
  }

  /** The metrics of every server process, added up by the primary (Prometheus text). */
  async serviceMetrics(): Promise<string> {
    const answer = await this.#ask((id) => ({ convsvc: 'metrics?', id }));
    if (answer.convsvc !== 'metrics' || answer.text === undefined)
      throw new Error(
        `the primary could not gather the metrics: ${answer.convsvc === 'metrics' ? answer.error : 'no answer'}`,
      );
    return answer.text;
  }

  /** Lets the primary read this process's statistics of stored layers and models, to add them to the others'. */
  shareStats(source: StatsSource): void {
    this.#stats = source;
  }

  /**
   * Every server process's statistics of the models named (this one's included), each process's
   * entry of a model apart, for the caller to add up by name.
   */
  async serviceStats(names: readonly string[]): Promise<ModelStat[]> {
    const all: ModelStat[] = [];
    for (let from = 0; from < names.length; from += STATS_NAMES_PER_QUESTION) {
      const part = names.slice(from, from + STATS_NAMES_PER_QUESTION);
      const answer = await this.#ask((id) => ({ convsvc: 'stats?', id, names: part }));
      if (answer.convsvc !== 'stats') throw new Error('the primary answered the statistics with something else');
      for (const share of answer.shares) all.push(...share);
    }
    return all;
  }

  /** Counts one request of `key` against the limit the primary keeps for the whole service. */
  async countRate(key: string, windowMs: number, max: number): Promise<{ current: number; ttl: number }> {
    const answer = await this.#ask((id) => ({ convsvc: 'rate?', id, key, windowMs, max }));
    if (answer.convsvc !== 'rate') throw new Error('the primary answered a rate count with something else');
    return { current: answer.current, ttl: answer.ttl };
  }

  /**
   * Waits for one of the host's kernel slots (src/cluster/kernel-slots.ts); resolves with the
   * function that gives it back. `signal` withdraws the ask (rejecting with its reason).
   */
  takeKernelSlot(signal: AbortSignal): Promise<() => void> {
    return new Promise((resolve, reject) => {
      if (signal.aborted) return reject(signal.reason);
      if (this.#lost || this.#channel.send === undefined) return resolve(() => {});
      const id = this.#nextId++;
      let done = false;
      const free = () => {
        if (done) return;
        done = true;
        if (!this.#lost) this.#channel.send?.({ convsvc: 'slot-free', id } satisfies ToPrimary);
      };
      const withdraw = () => {
        this.#slotAsks.delete(id);
        free();
        reject(signal.reason);
      };
      signal.addEventListener('abort', withdraw, { once: true });
      this.#slotAsks.set(id, () => {
        signal.removeEventListener('abort', withdraw);
        resolve(free);
      });
      this.#channel.send({ convsvc: 'slot?', id } satisfies ToPrimary);
    });
  }

  /**
   * Has every server process serve this change of a stored layer (load from the files this one
   * saved in `directory`, or unload), after the changes of that name the primary took before it;
   * `previous` is where this process's version before it came from, should it be undone. Resolves
   * once every process has made it; rejects with what went wrong in any (every process then
   * serves the version before again, unless the error says otherwise).
   */
  async publishLayer(action: 'load' | 'unload', name: string, directory?: string, previous?: string): Promise<void> {
    const answer = await this.#ask(
      (id) => ({
        convsvc: 'layer?',
        id,
        action,
        name,
        ...(directory === undefined ? {} : { directory }),
        ...(previous === undefined ? {} : { previous }),
      }),
      LAYER_TIMEOUT_MS,
    );
    if (answer.convsvc !== 'layer') throw new Error('the primary answered a layer change with something else');
    if (answer.error !== undefined)
      throw new Error(`not every server process could ${action} ${name}: ${answer.error}`);
  }

  /** The layers loaded and unloaded since the service started, for a process that starts now. */
  async layerSet(): Promise<LayersAnswer['layers']> {
    const answer = await this.#ask((id) => ({ convsvc: 'layers?', id }));
    if (answer.convsvc !== 'layers') throw new Error('the primary answered the layer set with something else');
    return answer.layers;
  }

  /** What to do when the primary orders a load or unload (orders that came before are run now). */
  onLayerOrder(handler: LayerOrderHandler): void {
    this.#onLayerOrder = handler;
    for (const order of this.#earlyOrders.splice(0)) this.#obey(order);
  }

  #obey(order: LayerOrder): void {
    const handler = this.#onLayerOrder;
    if (handler === null) {
      this.#earlyOrders.push(order);
      return;
    }
    handler(order).then(
      () => this.#channel.send?.({ convsvc: 'layer-done', id: order.id } satisfies ToPrimary),
      (err: unknown) =>
        this.#channel.send?.({
          convsvc: 'layer-done',
          id: order.id,
          error: err instanceof Error ? err.message : String(err),
        } satisfies ToPrimary),
    );
  }

  /** Sends the question `ask` makes with a fresh id, and waits for the answer that carries that id. */
  #ask(ask: (id: number) => ToPrimary, timeoutMs = ANSWER_TIMEOUT_MS): Promise<ToServer> {
    return new Promise((resolve, reject) => {
      if (this.#lost || this.#channel.send === undefined) return reject(new Error('the primary process is gone'));
      const id = this.#nextId++;
      const timer = setTimeout(() => {
        this.#waiting.delete(id);
        reject(new Error(`the primary did not answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiting.set(id, { resolve, reject, timer });
      this.#channel.send(ask(id));
    });
  }

  #receive(message: ToServer): void {
    switch (message.convsvc) {
      case 'state':
        this.#state = message;
        return;
      case 'share?':
        void this.#share(message.id);
        return;
      case 'stat-share?': {
        const stats = this.#stats?.(message.names.slice(0, STATS_NAMES_PER_QUESTION)) ?? [];
        if (!this.#lost) this.#channel.send?.({ convsvc: 'stat-share', id: message.id, stats } satisfies ToPrimary);
        return;
      }
      case 'layer!':
        if (!this.#lost) this.#obey(message);
        return;
      case 'slot': {
        const granted = this.#slotAsks.get(message.id);
        this.#slotAsks.delete(message.id);
        granted?.();
        return;
      }
      default: {
        const w = this.#waiting.get(message.id);
        if (w === undefined) return;
        this.#waiting.delete(message.id);
        clearTimeout(w.timer);
        w.resolve(message);
      }
    }
  }

  async #share(id: number): Promise<void> {
    const metrics: SharedMetrics = this.#registry === null ? [] : await this.#registry.getMetricsAsJSON();
    if (!this.#lost) this.#channel.send?.({ convsvc: 'share', id, metrics } satisfies ToPrimary);
  }
}
