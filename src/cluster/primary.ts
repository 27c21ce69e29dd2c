import cluster, { type Worker } from 'node:cluster';
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { hostname } from 'node:os';
import { AggregatorRegistry, Counter, Gauge, Registry } from 'prom-client';
import type { Config } from '../config.js';
import type { ModelStat } from '../models/stats.js';
import { Gatherer } from './gather.js';
import { KernelSlots } from './kernel-slots.js';
import { LayerChanges } from './layer-changes.js';
import { LAYER_COPIES_ENV, makeLayerCopiesDir } from './layer-copies.js';
import { type ClusterState, isOurs, type SharedMetrics, type ToPrimary, type ToServer } from './messages.js';

/** A restarted process that lived this long had a good run: its next death starts the backoff over. */
const GOOD_RUN_MS = 30_000;
/** The first restart's delay, doubled for each death in a row, up to the cap. */
const FIRST_RESTART_MS = 250;
const MAX_RESTART_MS = 30_000;
/** How long the primary waits for a server process's metrics before leaving it out. */
const SHARE_TIMEOUT_MS = 2000;
/** Past SIGTERM, beyond the processes' own grace and last words, what the primary still waits. */
const STOP_SLACK_MS = 5000;
/** Clients the service-wide rate limit remembers (least recently seen forgotten first), as @fastify/rate-limit's default. */
export const RATE_CLIENTS = 5000;

const LEVELS = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 } as const;
type Level = keyof typeof LEVELS;

/** The primary's log: one JSON line per event, in the shape of the server processes' (pino's). */
function primaryLog(configured: string) {
  const threshold = configured === 'silent' ? Infinity : LEVELS[configured as Level];
  const host = hostname();
  return (level: Level, fields: Record<string, unknown>, msg: string) => {
    if (LEVELS[level] < threshold) return;
    process.stdout.write(
      `${JSON.stringify({ level: LEVELS[level], time: Date.now(), pid: process.pid, hostname: host, role: 'primary', ...fields, msg })}\n`,
    );
  };
}

/** @fastify/rate-limit's in-memory store (not exported as a module of its own, so required by path). */
export interface LocalStore {
  incr(
    key: string,
    cb: (err: Error | null, res: { current: number; ttl: number }) => void,
    windowMs: number,
    max: number,
  ): void;
}
export const LocalStoreCtor = createRequire(import.meta.url)('@fastify/rate-limit/store/LocalStore.js') as new (
  continueExceeding: boolean,
  exponentialBackoff: boolean,
  cache: number,
) => LocalStore;

interface Slot {
  readonly index: number;
  worker: Worker | null;
  listening: boolean;
  /** Whether this slot's process has ever listened: one that dies before it ever did means the service cannot start. */
  served: boolean;
  startedAt: number;
  /** Deaths in a row, each within GOOD_RUN_MS of its start. */
  deaths: number;
  restart: NodeJS.Timeout | null;
}

/**
 * The primary of HTTP_PROCESSES server processes (node:cluster): it serves no request itself.
 * It forks them (each runs src/server.ts and listens on the one port; Node's primary hands each
 * new connection to the next process in turn), restarts one that dies (with backoff), tells them
 * when the service is whole (their readiness), adds up their metrics, keeps the service-wide rate
 * limit, and on SIGTERM / SIGINT has every process drain, exiting 0 only when all of them did.
 */
export function runPrimary(config: Config): void {
  const log = primaryLog(config.logLevel);
  const slots: Slot[] = Array.from({ length: config.httpProcesses }, (_, index) => ({
    index,
    worker: null,
    listening: false,
    served: false,
    startedAt: 0,
    deaths: 0,
    restart: null,
  }));
  const rates = new LocalStoreCtor(false, false, RATE_CLIENTS);
  const kernels = new KernelSlots(config.cores);
  let stopping = false;
  let failedExit = false;
  let shareId = 1;
  const shares = new Map<number, { readonly pending: Set<Worker>; readonly got: SharedMetrics[]; done: () => void }>();
  const statShares = new Gatherer<Worker, readonly ModelStat[]>(SHARE_TIMEOUT_MS);
  const copies = makeLayerCopiesDir();

  const own = new Registry();
  new Gauge({
    name: 'convsvc_http_processes',
    help: 'Server processes the service should have (HTTP_PROCESSES).',
    registers: [own],
    collect() {
      this.set(slots.length);
    },
  });
  new Gauge({
    name: 'convsvc_http_processes_up',
    help: 'Server processes listening now.',
    registers: [own],
    collect() {
      this.set(up());
    },
  });
  new Gauge({
    name: 'convsvc_kernel_slots_in_use',
    help: 'Kernel tasks running across every server process (at most one per core).',
    registers: [own],
    collect() {
      this.set(kernels.inUse);
    },
  });
  new Gauge({
    name: 'convsvc_kernel_slots_waiting',
    help: 'Kernel tasks waiting for a core, across every server process.',
    registers: [own],
    collect() {
      this.set(kernels.waiting);
    },
  });
  const restarts = new Counter({
    name: 'convsvc_http_process_restarts_total',
    help: 'Server processes restarted after they died.',
    registers: [own],
  });

  /** Server processes listening now. */
  function up(): number {
    return slots.filter((s) => s.listening).length;
  }
  /** The server processes still connected (of the slots `pick` takes): the ones a message can reach. */
  const live = (pick: (slot: Slot) => boolean = () => true) =>
    slots.flatMap((s) => (pick(s) && s.worker?.isConnected() ? [s.worker] : []));
  const send = (worker: Worker, message: ToServer) => {
    if (worker.isConnected()) worker.send(message);
  };
  const state = (): ClusterState => ({ convsvc: 'state', up: up(), of: slots.length, draining: stopping });
  const broadcast = () => {
    const s = state();
    for (const worker of live()) send(worker, s);
  };
  // Stored layers loaded or unloaded since start: a process that starts asks for them; the copies
  // of their files are removed when replaced, and at exit.
  const layerChanges = new LayerChanges<Worker>({
    live: () => live(),
    send,
    remove: (directory) => rmSync(directory, { recursive: true, force: true }),
  });

  /** Every server process's metrics, added up (prom-client's cluster aggregation), and the primary's own. */
  const serviceMetrics = (): Promise<string> =>
    new Promise((resolve, reject) => {
      const id = shareId++;
      const share = { pending: new Set(live((s) => s.listening)), got: [] as SharedMetrics[], done: () => {} };
      const timer = setTimeout(() => share.done(), SHARE_TIMEOUT_MS);
      share.done = () => {
        clearTimeout(timer);
        shares.delete(id);
        // Called from a message handler or a timer: whatever aggregating throws must reach the asker, not end the primary.
        Promise.resolve()
          .then(() => Promise.all([AggregatorRegistry.aggregate(share.got).metrics(), own.metrics()]))
          .then(([theirs, mine]) => resolve(`${theirs}\n${mine}`), reject);
      };
      shares.set(id, share);
      if (share.pending.size === 0) return share.done();
      for (const worker of share.pending) send(worker, { convsvc: 'share?', id });
    });

  const receive = (worker: Worker, message: ToPrimary) => {
    switch (message.convsvc) {
      case 'metrics?':
        void serviceMetrics().then(
          (text) => send(worker, { convsvc: 'metrics', id: message.id, text }),
          (err: unknown) => send(worker, { convsvc: 'metrics', id: message.id, error: String(err) }),
        );
        return;
      case 'share': {
        const share = shares.get(message.id);
        if (share === undefined || !share.pending.delete(worker)) return;
        share.got.push(message.metrics);
        if (share.pending.size === 0) share.done();
        return;
      }
      case 'stats?': {
        const names = message.names;
        void statShares
          .gather(
            live((s) => s.listening),
            (w, id) => send(w, { convsvc: 'stat-share?', id, names }),
          )
          .then((shares) => send(worker, { convsvc: 'stats', id: message.id, shares }));
        return;
      }
      case 'stat-share':
        statShares.answer(worker, message.id, message.stats);
        return;
      case 'slot?':
        kernels.ask(worker.id, message.id, () => send(worker, { convsvc: 'slot', id: message.id }));
        return;
      case 'slot-free':
        kernels.free(worker.id, message.id);
        return;
      case 'layer?':
        layerChanges.ask(worker, message);
        return;
      case 'layer-done':
        layerChanges.done(worker, message);
        return;
      case 'layers?':
        send(worker, { convsvc: 'layers', id: message.id, layers: layerChanges.set });
        return;
      case 'rate?':
        rates.incr(
          message.key,
          (_err, res) => send(worker, { convsvc: 'rate', id: message.id, current: res.current, ttl: res.ttl }),
          message.windowMs,
          message.max,
        );
        return;
    }
  };

  const fork = (slot: Slot) => {
    slot.restart = null;
    slot.listening = false;
    slot.startedAt = Date.now();
    const worker = cluster.fork({ CONVSVC_PROCESS_INDEX: String(slot.index), [LAYER_COPIES_ENV]: copies });
    slot.worker = worker;
    worker.on('message', (message: unknown) => {
      if (isOurs<ToPrimary>(message)) receive(worker, message);
    });
    worker.on('listening', () => {
      slot.listening = true;
      slot.served = true;
      log('info', { process: slot.index, workerPid: worker.process.pid }, 'server process listening');
      broadcast();
    });
    worker.on('exit', (code, signal) => exited(slot, worker, code, signal));
  };

  const exited = (slot: Slot, worker: Worker, code: number | null, signal: string | null) => {
    if (slot.worker !== worker) return;
    slot.worker = null;
    slot.listening = false;
    kernels.forget(worker.id);
    for (const share of shares.values()) if (share.pending.delete(worker) && share.pending.size === 0) share.done();
    statShares.forget(worker);
    layerChanges.forget(worker);
    if (stopping) {
      if (code !== 0) failedExit = true;
      log(
        code === 0 ? 'info' : 'error',
        { process: slot.index, workerPid: worker.process.pid, code, signal },
        'server process stopped',
      );
      if (slots.every((s) => s.worker === null)) finish();
      return;
    }
    broadcast();
    if (!slot.served) {
      log(
        'fatal',
        { process: slot.index, workerPid: worker.process.pid, code, signal },
        'a server process exited before it could listen; the service cannot start',
      );
      stop('SIGTERM', 1);
      return;
    }
    slot.deaths = Date.now() - slot.startedAt >= GOOD_RUN_MS ? 1 : slot.deaths + 1;
    const delay = Math.min(MAX_RESTART_MS, FIRST_RESTART_MS * 2 ** (slot.deaths - 1));
    restarts.inc();
    log(
      'error',
      {
        process: slot.index,
        workerPid: worker.process.pid,
        code,
        signal,
        deathsInARow: slot.deaths,
        restartInMs: delay,
      },
      'server process died; restarting it',
    );
    slot.restart = setTimeout(() => fork(slot), delay);
  };

  const finish = () => {
    rmSync(copies, { recursive: true, force: true });
    log('info', { failed: failedExit }, 'stopped');
    process.exit(failedExit ? 1 : 0);
  };

  const stop = (signal: NodeJS.Signals, exitCode = 0) => {
    if (stopping) return;
    stopping = true;
    if (exitCode !== 0) failedExit = true;
    log('info', { signal, processes: live().length }, 'shutting down: every server process drains');
    for (const slot of slots) {
      if (slot.restart !== null) clearTimeout(slot.restart);
      slot.restart = null;
    }
    broadcast();
    for (const slot of slots) slot.worker?.process.kill('SIGTERM');
    if (slots.every((s) => s.worker === null)) return finish();
    // A process that outlives its own grace period and last words is stuck: end it.
    setTimeout(() => {
      log(
        'error',
        { stuck: slots.filter((s) => s.worker !== null).map((s) => s.index) },
        'server processes outlived the shutdown grace period; killing them',
      );
      for (const slot of slots) slot.worker?.process.kill('SIGKILL');
      failedExit = true;
    }, config.shutdownGraceMs + STOP_SLACK_MS).unref();
  };

  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  log(
    'info',
    { processes: slots.length, workersEach: config.workers, port: config.port, layerCopies: copies },
    'starting server processes',
  );
  for (const slot of slots) fork(slot);
}
