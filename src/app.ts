import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { randomUUID } from 'node:crypto';
import type { Config } from './config.js';
import { authPlugin } from './plugins/auth.js';
import { errorHandlerPlugin } from './plugins/error-handler.js';
import { Metrics, metricsPlugin } from './plugins/metrics.js';
import openapiPlugin from './plugins/openapi.js';
import { KernelPool } from './pool.js';
import { zodValidatorCompiler } from './request-validation.js';
import { healthRoutes } from './routes/health.js';
import { opRoutesPlugin } from './routes/ops.js';
import { problemRoutes } from './routes/problems.js';

declare module 'fastify' {
  interface FastifyInstance {
    pool: KernelPool;
  }
}

export interface BuildOptions {
  /** Fastify's logger option; tests pass false. */
  readonly logger?: FastifyServerOptions['logger'];
}

const REQUEST_ID = /^[\w.:-]{1,128}$/;

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
  });
  app.setValidatorCompiler(zodValidatorCompiler);
  // Response schemas document the answers (OpenAPI); bodies are built by our own encoder, so
  // serialising them needs no second pass over every element.
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  // JSON only: a text/plain body gets a 415, not a confusing schema error.
  app.removeContentTypeParser('text/plain');

  const pool = new KernelPool({
    workers: config.workers,
    maxQueue: config.maxQueue,
    onTaskDone: (op, seconds, outcome) => metrics.taskDuration.observe({ op, outcome }, seconds),
  });
  const metrics = new Metrics(pool);
  app.decorate('pool', pool);
  // Shutdown: refuse new work at once (503), let in-flight requests finish, then end the pool.
  app.addHook('preClose', async () => pool.stopAdmitting());
  app.addHook('onRequest', async (request) => {
    if (pool.closing && request.url.startsWith('/v1/')) pool.admit();
  });
  app.addHook('onClose', async () => pool.close());
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
    // A keep-alive connection left open would hold shutdown until it timed out.
    if (pool.closing) reply.header('connection', 'close');
  });

  await app.register(errorHandlerPlugin);
  await app.register(openapiPlugin);
  await app.register(metricsPlugin, { metrics });
  await app.register(authPlugin, { apiKeys: config.apiKeys, prefixes: ['/v1/', '/v2/'] });
  await app.register(healthRoutes, { pool });
  await app.register(problemRoutes);
  await app.register(opRoutesPlugin, {
    pool,
    limits: { maxElements: config.maxElements, maxMacs: config.maxMacs },
    requestTimeoutMs: config.requestTimeoutMs,
  });
  return app;
}
