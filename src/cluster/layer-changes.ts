import type { LayerAnswer, LayerDone, LayerOrder, LayerQuestion, LayersAnswer, ToServer } from './messages.js';

/** What the primary's layer changes need of the cluster (src/cluster/primary.ts; a fake in tests). */
export interface LayerChangesOptions<W> {
  /** The server processes connected now: an order reaches each of them. */
  readonly live: () => readonly W[];
  readonly send: (worker: W, message: ToServer) => void;
  /** Removes a copy of a layer's files no process will load again. */
  readonly remove: (directory: string) => void;
}

type Change = Pick<LayerOrder, 'action' | 'name' | 'directory'>;

/**
 * The primary's keeping of the stored layers every server process serves. The processes converge
 * because the primary alone decides the order of the changes of a name: it takes them one at a
 * time (the next waits until every process has done the last), orders every process, the asker
 * included, to serve the new version, and each process applies the orders of a name one after
 * another in the order they came (src/models/layers.ts); a version a process already serves (the
 * asker's own) costs it nothing. Whatever a process did on its own before asking is followed by
 * the primary's order, so the last thing every process does for a name is the primary's last
 * order. If any process fails the change, every process is ordered back to the version before
 * (the directory it came from, or none) and the asker hears why.
 */
export class LayerChanges<W> {
  readonly #opts: LayerChangesOptions<W>;
  /** Each name's version since start: the directory of its files, or null (unloaded); in the order of the changes. */
  readonly #set = new Map<string, string | null>();
  readonly #queues = new Map<string, Promise<void>>();
  readonly #orders = new Map<number, { readonly pending: Set<W>; readonly errors: string[]; done: () => void }>();
  #nextId = 1;

  constructor(opts: LayerChangesOptions<W>) {
    this.#opts = opts;
  }

  /** The layers loaded and unloaded since start, for a process that starts now. */
  get set(): LayersAnswer['layers'] {
    return [...this.#set].map(([name, directory]) => ({ name, directory }));
  }

  /** A process's question: the change is made everywhere after the changes of its name asked before it. */
  ask(from: W, question: LayerQuestion): void {
    const { name } = question;
    const run = (this.#queues.get(name) ?? Promise.resolve()).then(() => this.#change(from, question)).catch(() => {});
    this.#queues.set(name, run);
    void run.then(() => {
      if (this.#queues.get(name) === run) this.#queues.delete(name);
    });
  }

  /** A process says it has done an order, or why it could not. */
  done(worker: W, message: LayerDone): void {
    const order = this.#orders.get(message.id);
    if (order === undefined || !order.pending.delete(worker)) return;
    if (message.error !== undefined) order.errors.push(message.error);
    if (order.pending.size === 0) order.done();
  }

  /** A process that died does no order (its restart loads the set as it is then). */
  forget(worker: W): void {
    for (const order of this.#orders.values())
      if (order.pending.delete(worker) && order.pending.size === 0) order.done();
  }

  async #change(from: W, question: LayerQuestion): Promise<void> {
    const { name } = question;
    const before = this.#set.has(name) ? (this.#set.get(name) ?? null) : (question.previous ?? null);
    const after = question.action === 'load' ? (question.directory ?? null) : null;
    this.#put(name, after);
    const errors = await this.#order({ action: question.action, name, directory: question.directory });
    const answer = (error?: string) =>
      this.#opts.send(from, {
        convsvc: 'layer',
        id: question.id,
        ...(error === undefined ? {} : { error }),
      } satisfies LayerAnswer);
    if (errors.length === 0) {
      // The copy replaced is no longer read by anyone once every process has the new one.
      if (before !== null && before !== after) this.#opts.remove(before);
      return answer();
    }
    this.#put(name, before);
    const back = await this.#order(
      before === null ? { action: 'unload', name } : { action: 'load', name, directory: before },
    );
    if (after !== null && after !== before) this.#opts.remove(after);
    const undone =
      back.length === 0
        ? `every server process serves ${name} as before`
        : `and going back to the version before failed too: ${back.join('; ')}`;
    answer(`${errors.join('; ')}; ${undone}`);
  }

  /** Orders every live process to make a change; the errors of those that could not. */
  #order(change: Change): Promise<string[]> {
    return new Promise((resolve) => {
      const id = this.#nextId++;
      const order = { pending: new Set(this.#opts.live()), errors: [] as string[], done: () => {} };
      order.done = () => {
        this.#orders.delete(id);
        resolve(order.errors);
      };
      this.#orders.set(id, order);
      if (order.pending.size === 0) return order.done();
      const message: LayerOrder = {
        convsvc: 'layer!',
        id,
        action: change.action,
        name: change.name,
        ...(change.directory === undefined ? {} : { directory: change.directory }),
      };
      for (const worker of order.pending) this.#opts.send(worker, message);
    });
  }

  /** Re-inserted: the set keeps the order of the changes. */
  #put(name: string, directory: string | null): void {
    this.#set.delete(name);
    this.#set.set(name, directory);
  }
}
