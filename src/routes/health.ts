import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ClusterLink } from '../cluster/link.js';
import { MAX_EVENT_LOOP_DELAY_MS, pressureReason } from '../plugins/load-shedding.js';
import type { KernelPool } from '../pool.js';
import { ProblemError } from '../problems.js';
import { ProblemSchema } from '../schemas/problem.js';

/** What under-pressure measured, in words (src/plugins/load-shedding.ts sets the limits). */
export function overload(app: FastifyInstance): string {
  const m = app.memoryUsage();
  return m.eventLoopDelay > MAX_EVENT_LOOP_DELAY_MS
    ? pressureReason('eventLoopDelay', m.eventLoopDelay)
    : pressureReason('heapUsedBytes', m.heapUsed);
}

/**
 * Why the service should not be sent work now, or null when it is ready: the readiness of
 * /health/ready and of gRPC's health service (src/grpc/health.ts).
 */
export function notReadyReason(app: FastifyInstance, pool: KernelPool, cluster?: ClusterLink): string | null {
  if (pool.closing) return 'the service is shutting down';
  const whole = cluster?.notReady ?? null;
  if (whole !== null) return whole;
  if (pool.workers === 0) return 'the worker pool is starting';
  if (pool.saturated)
    return `the work queue is full (${pool.reserved} of ${pool.capacity} request slots taken, ${pool.queueSize} tasks waiting)`;
  if (app.isUnderPressure()) return `the service is overloaded: ${overload(app)}`;
  return null;
}

export async function healthRoutes(
  app: FastifyInstance,
  opts: { pool: KernelPool; cluster?: ClusterLink },
): Promise<void> {
  const typed = app.withTypeProvider<ZodTypeProvider>();
  typed.get(
    '/health/live',
    {
      schema: {
        tags: ['service'],
        summary: 'Liveness',
        description: '200 while the process runs and its event loop answers.',
        response: { 200: z.object({ status: z.literal('ok') }) },
      },
    },
    async () => ({ status: 'ok' as const }),
  );
  typed.get(
    '/health/ready',
    {
      schema: {
        tags: ['service'],
        summary: 'Readiness',
        description:
          '200 once the worker pool is up and its queue has room, and (with HTTP_PROCESSES above 1) every server process is up; 503 with the reason otherwise.',
        response: {
          200: z.object({ status: z.literal('ready') }),
          503: {
            description: 'Not ready, and why.',
            content: { 'application/problem+json': { schema: ProblemSchema } },
          },
        },
      },
    },
    async () => {
      const reason = notReadyReason(app, opts.pool, opts.cluster);
      if (reason !== null) throw new ProblemError('unavailable', reason);
      return { status: 'ready' as const };
    },
  );
}
