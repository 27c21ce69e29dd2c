import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { KernelPool } from '../pool.js';
import { registerGemmInfo } from '../gemm-runtime.js';

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
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  readonly taskDuration = new Histogram({
    name: 'convsvc_task_duration_seconds',
    help: 'Time a kernel task spent in the pool (queued and running), by op and outcome.',
    labelNames: ['op', 'outcome'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });

  constructor(pool: KernelPool) {
    collectDefaultMetrics({ register: this.registry, prefix: 'convsvc_' });
    registerGemmInfo(this.registry);
    new Gauge({
      name: 'convsvc_pool_queue_length',
      help: 'Tasks waiting for a worker.',
      registers: [this.registry],
      collect() {
        this.set(pool.queueSize);
      },
    });
    new Gauge({
      name: 'convsvc_pool_workers',
      help: 'Worker threads running.',
      registers: [this.registry],
      collect() {
        this.set(pool.workers);
      },
    });
  }
}

async function metrics(app: FastifyInstance, opts: { metrics: Metrics }): Promise<void> {
  const { metrics } = opts;
  app.addHook('onResponse', (request, reply, done) => {
    const labels = { method: request.method, route: request.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) };
    metrics.requests.inc(labels);
    metrics.latency.observe(labels, reply.elapsedTime / 1000);
    done();
  });
  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    reply.type(metrics.registry.contentType);
    return metrics.registry.metrics();
  });
}

/** Registered without encapsulation: it applies to every route of the app. */
export const metricsPlugin = fp(metrics, { name: 'metrics' });
