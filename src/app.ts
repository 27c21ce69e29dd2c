import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { readAwayBytes } from './body-bytes.js';
import { answerClientError } from './client-errors.js';
import type { ClusterLink } from './cluster/link.js';
import type { Config } from './config.js';
import { Deliveries } from './deliveries.js';
import { gemmRuntime } from './gemm-runtime.js';
import { GrpcServer } from './grpc/server.js';
import { deriveBudget, MemoryBudget } from './memory-budget.js';
import { admissionPlugin } from './plugins/admission.js';
import { authPlugin } from './plugins/auth.js';
import { errorHandlerPlugin, sendProblem } from './plugins/error-handler.js';
import { flushBeforeClosePlugin } from './plugins/flush-before-close.js';
import { loadSheddingPlugin } from './plugins/load-shedding.js';
import { Metrics, metricsPlugin } from './plugins/metrics.js';
import openapiPlugin from './plugins/openapi.js';
import { rateCounts, rateLimitPlugin } from './plugins/rate-limit.js';
import { REFUSED_BODY_BYTES_PER_SECOND, refusedBodiesPlugin } from './plugins/refused-bodies.js';
import { KernelPool } from './pool.js';
import { ProblemError } from './problems.js';
import { zodValidatorCompiler } from './request-validation.js';
import { healthRoutes } from './routes/health.js';
import { opRoutesPlugin } from './routes/ops.js';
import { playgroundRoutes } from './routes/playground.js';
import { problemRoutes } from './routes/problems.js';
import { rootRoute } from './routes/root.js';
import { closeSilentConnections } from './silent-connections.js';
import { Uploads } from './uploads.js';
import { v2Routes } from './v2/routes.js';
import { openStoredLayers } from './v2/stored-layers.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set when a refused body leaves the connection usable (src/body-bytes.ts). */
    connectionInStep: boolean;
  }
  interface FastifyInstance {
    pool: KernelPool;
    memoryBudget: MemoryBudget;
    uploads: Uploads;
    deliveries: Deliveries;
    /** The gRPC half of the Open Inference Protocol (src/grpc/): src/server.ts binds it to GRPC_PORT. */
    grpc: GrpcServer;
  }
}

export interface BuildOptions {
  /** Set in a server process of several (src/cluster/primary.ts): its line to the primary. */
  readonly cluster?: ClusterLink;
  /** Fastify's logger option; tests pass false. */
  readonly logger?: FastifyServerOptions['logger'];
  /** Test-only: another worker module (a faulty one, to inject crashes). Not reachable from configuration. */
  readonly workerEntry?: URL;
  /** Test-only: lower load-shedding thresholds (src/plugins/load-shedding.ts), to cause pressure. */
  readonly loadShedding?: { readonly maxEventLoopDelayMs?: number; readonly maxHeapShare?: number };
}

/** The window over which a body still arriving, or an answer being taken, must keep MIN_BODY_BYTES_PER_SECOND (src/pace.ts). */
const UPLOAD_RATE_WINDOW_MS = 5000;
/** Node's own check of header and request timeouts runs this often (its default is 30 s). */
const CONNECTION_CHECK_MS = 1000;

const REQUEST_ID = /^[\w.:-]{1,128}$/;

/**
 * A server process's kernel threads. Alone, it keeps WORKERS threads. One of several keeps its
 * share of the cores warm and starts the rest (up to WORKERS) only when a task needs them, so one
 * large request on an idle host is split over every core, while the host's kernel slots
 * (src/cluster/kernel-slots.ts) keep a loaded host at one running kernel per core. `expected` is
 * what the memory budget sets aside: the warm threads and the process's share of the others.
 */
function kernelThreads(config: Config, clustered: boolean): { warm: number; expected: number } {
  if (!clustered) return { warm: config.workers, expected: config.workers };
  const share = Math.ceil(config.cores / config.httpProcesses);
  const warm = Math.min(config.workers, share);
  return { warm, expected: Math.min(config.workers, warm + share) };
}

/**
 * The whole service as a Fastify instance without a port: the process entry (src/server.ts)
 * listens on it, and tests inject requests into it.
 */
export async function buildApp(config: Config, opts: BuildOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: opts.logger ?? {
      level: config.logLevel,
      redact: { paths: ['req.headers.authorization'], censor: '[redacted]' },
    },
    bodyLimit: config.maxBodyBytes,
    // A caller's own request id is kept (if it looks like one), so logs join up across services.
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    return503OnClosing: false,
    forceCloseConnections: 'idle',
    // Nothing a client controls is unbounded: the time to send headers, and (a backstop to the
    // body's own deadline and pace in src/uploads.ts) to send the whole request.
    http: { headersTimeout: config.headersTimeoutMs, connectionsCheckingInterval: CONNECTION_CHECK_MS },
    requestTimeout: config.requestTimeoutMs + config.headersTimeoutMs,
    clientErrorHandler: answerClientError,
    // A URL the router cannot decode (`/v1/%`) is refused before any route runs: a problem
    // document all the same.
    frameworkErrors: (error, request, reply) => {
      // The app's hooks do not run for these, so the request id header is set here.
      reply.header('x-request-id', request.id);
      sendProblem(reply, { slug: 'invalid-request', detail: `the URL is not valid: ${error.message.slice(0, 200)}` });
    },
  });
  app.server.maxConnections = config.maxConnections;
  closeSilentConnections(app.server, config.headersTimeoutMs);
  app.setValidatorCompiler(zodValidatorCompiler);
  // Response schemas document the answers (OpenAPI); bodies are built by our own encoder, so
  // serialising them needs no second pass over every element.
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  // JSON only: a text/plain body gets a 415, not a confusing schema error.
  app.removeContentTypeParser('text/plain');

  // Says which GEMM runs; throws, stopping start-up, when GEMM_VARIANT forces one this runtime lacks.
  app.log.info({ gemm: gemmRuntime() }, 'GEMM variant');
  const threads = kernelThreads(config, opts.cluster !== undefined);
  const pool = new KernelPool({
    workers: config.workers,
    warmWorkers: threads.warm,
    hostSlot: opts.cluster ? (signal) => opts.cluster!.takeKernelSlot(signal) : undefined,
    maxQueue: config.maxQueue,
    inlineMaxMacs: config.inlineMaxMacs,
    workerEntry: opts.workerEntry,
    onTaskDone: (op, seconds, outcome) => metrics.taskDuration.observe({ op, outcome }, seconds),
  });
  const budget = deriveBudget({
    configured: config.memoryBudgetBytes,
    workers: threads.expected,
    processes: opts.cluster ? config.httpProcesses : 1,
    storedBytes: config.maxStoredBytes,
  });
  const memory = new MemoryBudget(budget.bytes);
  const pace = { minBytesPerSecond: config.minBodyBytesPerSecond, windowMs: UPLOAD_RATE_WINDOW_MS };
  const uploads = new Uploads(pace);
  const deliveries = new Deliveries({ ...pace, deadlineMs: config.requestTimeoutMs });
  app.log.info({ memoryBudgetBytes: budget.bytes, source: budget.source }, 'memory budget');
  const metrics = new Metrics(pool, memory, uploads, deliveries);
  opts.cluster?.shareMetrics(metrics.registry);
  app.decorate('pool', pool);
  app.decorateRequest('connectionInStep', false);
  app.decorate('memoryBudget', memory);
  app.decorate('uploads', uploads);
  app.decorate('deliveries', deliveries);
  // Only origin-form request-targets (`/v1/...`): an absolute URL or `*` names no route of ours,
  // and each guard decides on the route that matched anyway (src/route-guards.ts).
  app.addHook('onRequest', (request, _reply, done) => {
    if (request.raw.url?.startsWith('/')) return done();
    done(new ProblemError('invalid-request', 'the request-target must be a path starting with "/" (origin form)'));
  });
  // Shutdown: refuse new work at once (503), let in-flight requests finish, then end the pool.
  app.addHook('preClose', async () => pool.stopAdmitting());
  app.addHook('onClose', async () => pool.close());
  // Callback hooks, here and in the plugins that run on every request: an async one costs each
  // request a promise and a turn of the microtask queue.
  app.addHook('onSend', (request, reply, payload, done) => {
    reply.header('x-request-id', request.id);
    // A keep-alive connection left open would hold shutdown until it timed out.
    if (pool.closing) reply.header('connection', 'close');
    // Fastify closes a connection whose body its parser refused; one left in step stays open
    // (src/body-bytes.ts), so a client sending its next request does not lose this answer.
    else if (request.connectionInStep) reply.removeHeader('connection');
    done(null, payload);
  });

  await app.register(errorHandlerPlugin);
  await app.register(refusedBodiesPlugin, {
    bytesPerSecond: REFUSED_BODY_BYTES_PER_SECOND,
    maxBodyBytes: readAwayBytes(config.maxBodyBytes),
    uploads,
    deadlineMs: config.requestTimeoutMs,
  });
  await app.register(openapiPlugin);
  await app.register(metricsPlugin, { metrics, cluster: opts.cluster });
  await app.register(authPlugin, {
    apiKeys: config.apiKeys,
    metricsKeys: config.metricsApiKeys,
    adminKeys: config.adminApiKeys,
  });
  // After auth (strangers take nothing), before the routes (the rate limit attaches to each).
  await app.register(loadSheddingPlugin, { ...opts.loadShedding });
  await app.register(admissionPlugin, {
    ctx: { pool, budget: memory, uploads, requestTimeoutMs: config.requestTimeoutMs },
    deliveries,
  });
  const rates = rateCounts(opts.cluster);
  await app.register(rateLimitPlugin, {
    counts: rates,
    max: config.rateLimitMax,
    windowMs: config.rateLimitWindowMs,
    keyed: config.apiKeys.length > 0,
    cluster: opts.cluster,
  });
  await app.register(healthRoutes, { pool, cluster: opts.cluster });
  await app.register(problemRoutes);
  await app.register(playgroundRoutes);
  await app.register(rootRoute);
  await app.register(opRoutesPlugin, {
    pool,
    limits: { maxElements: config.maxElements, maxMacs: config.maxMacs },
    requestTimeoutMs: config.requestTimeoutMs,
  });
  // One store of layers, served over REST and gRPC alike.
  const stored = await openStoredLayers(config, { memory, cluster: opts.cluster, log: app.log });
  app.addHook('onClose', async () => stored.layers.close());
  await app.register(v2Routes, { pool, config, stored });
  const grpc = new GrpcServer({ app, config, rates, cluster: opts.cluster, stored, metrics });
  app.decorate('grpc', grpc);
  // Shutdown as for HTTP: new calls refused, calls in flight finished; onClose hooks run last
  // registered first, so the pool (closed above) outlives the calls.
  app.addHook('preClose', async () => void grpc.drain());
  app.addHook('onClose', async () => grpc.drain());
  await app.register(flushBeforeClosePlugin);
  return app;
}
