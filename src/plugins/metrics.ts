import fp from 'fastify-plugin';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ServerResponse } from 'node:http';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ClusterLink } from '../cluster/link.js';
import type { MemoryBudget } from '../memory-budget.js';
import type { KernelPool } from '../pool.js';
import { registerGemmInfo } from '../gemm-runtime.js';
import { PROBLEM_TYPES } from '../problems.js';
import type { Uploads } from '../uploads.js';

/** nginx's status for a client that closed its connection before its answer was written. */
const CLIENT_CLOSED = PROBLEM_TYPES['client-closed'].status;

/** What prom-client keeps for one label set of a histogram (lib/histogram.js, createBaseValues). */
interface HistogramEntry {
  labels: Record<string, string>;
  bucketValues: Record<number, number>;
  sum: number;
  count: number;
}

/**
 * One label set of a request counter and, optionally, a histogram, counted here on the hot path
 * and handed to prom-client when the registry is read. prom-client builds a label object's hash
 * string, validates its keys and allocates a closure on every observation: a few microseconds
 * per request, for three observations. Here an observation adds to numbers in a tally found by
 * a string key.
 *
 * The tally keeps running totals, added in observation order, and a read sets prom-client's
 * entry to them: the counts, the sum (the same additions in the same order, so the same
 * double) and the buckets are exactly what observing one by one would have left. Entries
 * appear in prom-client's map in the order their label sets were first seen, as before.
 */
export class Tally {
  /** Observations so far, and of them how many the counter was told of. */
  count = 0;
  #counted = 0;
  /** The histogram's running totals; bucket i counts values <= bounds[i]. */
  observed = 0;
  sum = 0;
  readonly #buckets: Float64Array;
  #entry: HistogramEntry | null = null;

  /** Where a tally goes when first observed: prom-client's entries are made in that order. */
  readonly #firstObserved: Tally[];

  constructor(
    readonly labels: Record<string, string>,
    readonly bounds: readonly number[],
    firstObserved: Tally[] = [],
  ) {
    this.#buckets = new Float64Array(bounds.length);
    this.#firstObserved = firstObserved;
  }

  /** One observation of the histogram (the counter counts separately, with `count`). */
  observe(value: number): void {
    if (!Number.isFinite(value)) throw new TypeError(`Value is not a valid number: ${value}`);
    if (this.observed === 0) this.#firstObserved.push(this);
    const bounds = this.bounds;
    for (let i = 0; i < bounds.length; i++) {
      if (value <= bounds[i]) {
        this.#buckets[i]++;
        break;
      }
    }
    this.sum += value;
    this.observed++;
  }

  /** Tells `counter` of the counts since the last read. */
  flushCount(counter: Counter<string>): void {
    const delta = this.count - this.#counted;
    if (delta > 0) counter.inc(this.labels, delta);
    this.#counted = this.count;
  }

  /** Sets `histogram`'s entry of this label set to the running totals. */
  flushHistogram(histogram: Histogram<string>): void {
    if (this.observed === 0) return;
    const entries = (histogram as unknown as { hashMap: Record<string, HistogramEntry> }).hashMap;
    if (this.#entry === null || !Object.values(entries).includes(this.#entry)) {
      const same = (e: HistogramEntry) => Object.keys(this.labels).every((k) => e.labels[k] === this.labels[k]) && Object.keys(e.labels).length === Object.keys(this.labels).length;
      let entry = Object.values(entries).find(same);
      if (entry === undefined) {
        histogram.zero(this.labels);
        entry = Object.values(entries).find(same);
      }
      if (entry === undefined || typeof entry.sum !== 'number' || typeof entry.count !== 'number' || typeof entry.bucketValues !== 'object') {
        throw new Error('prom-client no longer keeps a histogram as src/plugins/metrics.ts expects');
      }
      this.#entry = entry;
    }
    const entry = this.#entry;
    entry.count = this.observed;
    entry.sum = this.sum;
    for (let i = 0; i < this.bounds.length; i++) entry.bucketValues[this.bounds[i]] = this.#buckets[i];
  }
}

type Key = string | number;

/**
 * Tallies by label set, made on first use: in the order first counted, and first observed.
 * Found by up to three keys in nested maps, so a lookup builds no string and no closure.
 */
class Tallies<A extends Key, B extends Key, C extends Key> {
  readonly #byKey = new Map<A, Map<B, Map<C, Tally>>>();
  readonly #counted: Tally[] = [];
  readonly #observed: Tally[] = [];
  constructor(
    readonly bounds: readonly number[],
    readonly labelsOf: (a: A, b: B, c: C) => Record<string, string>,
  ) {}
  get(a: A, b: B, c: C): Tally {
    let byB = this.#byKey.get(a);
    if (byB === undefined) this.#byKey.set(a, (byB = new Map()));
    let byC = byB.get(b);
    if (byC === undefined) byB.set(b, (byC = new Map()));
    let tally = byC.get(c);
    if (tally === undefined) {
      tally = new Tally(this.labelsOf(a, b, c), this.bounds, this.#observed);
      byC.set(c, tally);
      this.#counted.push(tally);
    }
    return tally;
  }
  /** In the order first counted. */
  counted(): readonly Tally[] {
    return this.#counted;
  }
  /** Those observed at all, in the order first observed. */
  observed(): readonly Tally[] {
    return this.#observed;
  }
}

const REQUEST_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const TASK_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** The service's Prometheus metrics, in a registry of its own (one per app instance). */
export class Metrics {
  readonly registry = new Registry();
  /**
   * By method, route and status: the request counter and latency histogram, read from them.
   * Count through countRequest and observeTask, never on the three metrics themselves: a read
   * sets their entries to the tallies', which would undo an observation made directly.
   */
  readonly #requestTallies = new Tallies(REQUEST_BUCKETS, (route: string, method: string, status: number) => ({ method, route, status: String(status) }));
  /** By op and outcome. */
  readonly #taskTallies = new Tallies(TASK_BUCKETS, (op: string, outcome: string, _: 0) => ({ op, outcome }));
  readonly requests = new Counter({
    name: 'convsvc_http_requests_total',
    help: 'HTTP requests by method, route and status.',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
    collect: () => {
      for (const t of this.#requestTallies.counted()) t.flushCount(this.requests);
    },
  });
  readonly latency = new Histogram({
    name: 'convsvc_http_request_duration_seconds',
    help: 'HTTP request latency by method, route and status.',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: REQUEST_BUCKETS,
    registers: [this.registry],
    collect: () => {
      for (const t of this.#requestTallies.observed()) t.flushHistogram(this.latency);
    },
  });
  readonly taskDuration = new Histogram({
    name: 'convsvc_task_duration_seconds',
    help: 'Time a kernel task spent in the pool (queued and running), by op and outcome.',
    labelNames: ['op', 'outcome'] as const,
    buckets: TASK_BUCKETS,
    registers: [this.registry],
    collect: () => {
      for (const t of this.#taskTallies.observed()) t.flushHistogram(this.taskDuration);
    },
  });

  /** Counts a request answered with `status`, and its latency if it was answered (not a 499). */
  countRequest(method: string, route: string, status: number, seconds?: number): void {
    const tally = this.#requestTallies.get(route, method, status);
    tally.count++;
    if (seconds !== undefined) tally.observe(seconds);
  }

  /** A kernel task's time in the pool. */
  observeTask(op: string, outcome: string, seconds: number): void {
    this.#taskTallies.get(op, outcome, 0).observe(seconds);
  }

  constructor(pool: KernelPool, budget: MemoryBudget, uploads: Uploads) {
    collectDefaultMetrics({ register: this.registry, prefix: 'convsvc_' });
    registerGemmInfo(this.registry);
    const registers = [this.registry];
    /** A gauge read when scraped. */
    const gauge = (name: string, help: string, read: () => number) =>
      new Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(read());
        },
      });
    gauge('convsvc_pool_queue_length', 'Tasks waiting for a worker.', () => pool.queueSize);
    gauge('convsvc_pool_workers', 'Worker threads running.', () => pool.workers);
    gauge('convsvc_pool_slots_taken', 'Requests whose body has arrived whole and valid, holding one of WORKERS + MAX_QUEUE slots until answered.', () => pool.reserved);
    gauge('convsvc_memory_budget_bytes', 'Bytes requests may hold at once (MEMORY_BUDGET_BYTES, or derived from the memory the process may use).', () => budget.total);
    gauge('convsvc_memory_admitted_bytes', 'Bytes the requests in flight are expected to hold, charged against the budget.', () => budget.charged);
    gauge('convsvc_memory_admitted_requests', 'Op requests admitted and not yet answered, each holding a share of the budget.', () => budget.requests);
    gauge('convsvc_uploads_in_progress', 'Request bodies still arriving (refused ones being read away included).', () => uploads.size);
    new Counter({
      name: 'convsvc_memory_refusals_total',
      help: 'Requests refused because the memory budget had no room for them (503) or never could (413).',
      registers,
      collect() {
        this.reset();
        this.inc(budget.refusals);
      },
    });
  }
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Whether the request has been counted (src/plugins/metrics.ts). */
    metricsCounted: boolean;
  }
}

/** The request a response answers, for its 'close' listener (one function for all, no closure each). */
const REQUEST = Symbol('metrics request');
type Answer = ServerResponse & { [REQUEST]?: FastifyRequest };

async function metrics(app: FastifyInstance, opts: { metrics: Metrics; cluster?: ClusterLink }): Promise<void> {
  const { metrics } = opts;
  // A request is counted once: when its answer is written, or as 499 when its client hung up first.
  app.decorateRequest('metricsCounted', false);
  const count = (request: FastifyRequest, status: number, seconds?: number) => {
    if (request.metricsCounted) return;
    request.metricsCounted = true;
    metrics.countRequest(request.method, request.routeOptions.url ?? 'unmatched', status, seconds);
  };
  app.addHook('onResponse', (request, reply, done) => {
    if (reply.raw.writableFinished) count(request, reply.statusCode, reply.elapsedTime / 1000);
    done();
  });
  // A connection that closes before its answer was written: Fastify runs no hook for a request
  // whose body had arrived, so the response's own close says it.
  function onClose(this: Answer): void {
    const request = this[REQUEST];
    if (request !== undefined && !this.writableFinished) count(request, CLIENT_CLOSED);
  }
  app.addHook('onRequest', (request, reply, done) => {
    const res = reply.raw as Answer;
    res[REQUEST] = request;
    res.on('close', onClose);
    done();
  });
  app.get('/metrics', { config: { guard: 'metrics' }, schema: { hide: true } }, async (_request, reply) => {
    reply.type(metrics.registry.contentType);
    // With several server processes, any of them answers for the whole service.
    return opts.cluster ? opts.cluster.serviceMetrics() : metrics.registry.metrics();
  });
}

/** Registered without encapsulation: it applies to every route of the app. */
export const metricsPlugin = fp(metrics, { name: 'metrics' });
