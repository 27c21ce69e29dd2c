import type { ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { ClusterLink } from '../cluster/link.js';
import type { Deliveries } from '../deliveries.js';
import { registerGemmInfo } from '../gemm-runtime.js';
import type { MemoryBudget } from '../memory-budget.js';
import type { KernelPool } from '../pool.js';
import { PROBLEM_TYPES } from '../problems.js';
import { ScrapeBatches } from '../scrape-batches.js';
import type { Uploads } from '../uploads.js';

/** nginx's status for a client that closed its connection before its answer was written. */
const CLIENT_CLOSED = PROBLEM_TYPES['client-closed'].status;
/** At most ten gatherings of /metrics a second (src/scrape-batches.ts); Prometheus scrapes every 15 s or so. */
export const SCRAPE_SPACING_MS = 100;

/** Latency buckets of a request or call, in seconds: from an inline small op to a long backward pass. */
const REQUEST_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** The service's Prometheus metrics, in a registry of its own (one per app instance). */
export class Metrics {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: 'convsvc_http_requests_total',
    help: 'HTTP requests by method, route and status.',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });
  readonly latency = new Histogram({
    name: 'convsvc_http_request_duration_seconds',
    help: 'HTTP request latency by method, route and status.',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: REQUEST_BUCKETS,
    registers: [this.registry],
  });
  readonly taskDuration = new Histogram({
    name: 'convsvc_task_duration_seconds',
    help: 'Time a kernel task spent in the pool (queued and running), by op and outcome.',
    labelNames: ['op', 'outcome'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });

  /** gRPC calls by their outcome, named as grpc-ecosystem's Prometheus interceptors name them. */
  readonly grpcHandled = new Counter({
    name: 'convsvc_grpc_server_handled_total',
    help: 'gRPC calls completed, by service, method and status code (a call the client cancelled: CANCELLED).',
    labelNames: ['grpc_service', 'grpc_method', 'grpc_code'] as const,
    registers: [this.registry],
  });
  readonly grpcLatency = new Histogram({
    name: 'convsvc_grpc_server_handling_seconds',
    help: 'gRPC call latency, from its headers to its status, by service, method and status code.',
    labelNames: ['grpc_service', 'grpc_method', 'grpc_code'] as const,
    buckets: REQUEST_BUCKETS,
    registers: [this.registry],
  });

  constructor(pool: KernelPool, budget: MemoryBudget, uploads: Uploads, deliveries: Deliveries) {
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
    gauge(
      'convsvc_pool_slots_taken',
      'Requests whose body has arrived whole and valid, holding one of WORKERS + MAX_QUEUE slots until answered.',
      () => pool.reserved,
    );
    gauge(
      'convsvc_memory_budget_bytes',
      'Bytes requests may hold at once (MEMORY_BUDGET_BYTES, or derived from the memory the process may use).',
      () => budget.total,
    );
    gauge(
      'convsvc_memory_admitted_bytes',
      'Bytes the requests in flight are expected to hold, charged against the budget.',
      () => budget.charged,
    );
    gauge(
      'convsvc_memory_admitted_requests',
      'Op requests admitted and not yet answered, each holding a share of the budget.',
      () => budget.requests,
    );
    gauge(
      'convsvc_uploads_in_progress',
      'Request bodies still arriving (refused ones being read away included).',
      () => uploads.size,
    );
    gauge(
      'convsvc_answers_in_delivery',
      'Answers of op requests (HTTP) and gRPC calls handed over and not yet taken by their clients.',
      () => deliveries.size,
    );
    new Counter({
      name: 'convsvc_answers_cut_total',
      help: 'Answers whose clients did not take them within REQUEST_TIMEOUT_MS or at MIN_BODY_BYTES_PER_SECOND: their connection or stream was closed.',
      registers,
      collect() {
        this.reset();
        this.inc(deliveries.cut);
      },
    });
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
    const labels = { method: request.method, route: request.routeOptions.url ?? 'unmatched', status: String(status) };
    metrics.requests.inc(labels);
    if (seconds !== undefined) metrics.latency.observe(labels, seconds);
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
  // With several server processes, any of them answers for the whole service.
  const cluster = opts.cluster;
  const scrapes = new ScrapeBatches(
    () => (cluster ? cluster.serviceMetrics() : metrics.registry.metrics()),
    SCRAPE_SPACING_MS,
  );
  app.get('/metrics', { config: { guard: 'metrics' }, schema: { hide: true } }, async (_request, reply) => {
    reply.type(metrics.registry.contentType);
    return scrapes.scrape();
  });
}

/** Registered without encapsulation: it applies to every route of the app. */
export const metricsPlugin = fp(metrics, { name: 'metrics' });
