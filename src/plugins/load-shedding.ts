import { getHeapStatistics } from 'node:v8';
import underPressure from '@fastify/under-pressure';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { RETRY_AFTER_SECONDS } from '../pool.js';
import { ProblemError } from '../problems.js';
import { isOpRoute } from '../route-guards.js';

/** An event loop this late answers health checks too slowly to be trusted with more work. */
export const MAX_EVENT_LOOP_DELAY_MS = 1000;
/** Past this share of V8's heap limit, new op requests are refused rather than risk running out. */
export const MAX_HEAP_SHARE = 0.85;

/**
 * Load shedding by the process's own health (@fastify/under-pressure), a second line behind the
 * slot count of src/plugins/admission.ts: while the event loop lags or the heap nears its limit,
 * op requests get 503 + Retry-After and /health/ready says why. Health, metrics and docs go on
 * answering, so a busy process is not mistaken for a dead one.
 */
export interface LoadSheddingOptions {
  /** Tests lower these to put the process under pressure at will. */
  readonly maxEventLoopDelayMs?: number;
  readonly maxHeapShare?: number;
}

async function loadShedding(app: FastifyInstance, opts: LoadSheddingOptions): Promise<void> {
  const maxEventLoopDelay = opts.maxEventLoopDelayMs ?? MAX_EVENT_LOOP_DELAY_MS;
  await app.register(underPressure, {
    maxEventLoopDelay,
    maxHeapUsedBytes: Math.max(
      1,
      Math.floor(getHeapStatistics().heap_size_limit * (opts.maxHeapShare ?? MAX_HEAP_SHARE)),
    ),
    // under-pressure reads a sampling interval with no delay sample as an infinite lag. Sampling
    // no more often than the limit makes that mean a block at least as long as the limit, not a
    // single 250 ms task that would shed the requests of the next quarter second.
    sampleInterval: Math.max(250, maxEventLoopDelay),
    pressureHandler: (request, _reply, type, value) => {
      if (!isOpRoute(request)) return undefined;
      const why = pressureReason(type, Number(value));
      return Promise.reject(
        new ProblemError('unavailable', `the service is overloaded (${why}); retry later`, undefined, {
          'retry-after': RETRY_AFTER_SECONDS,
        }),
      );
    },
  });
}

/** The pressure in words, for a 503's detail and /health/ready. */
export function pressureReason(type: string, value: number): string {
  if (type === 'eventLoopDelay') {
    return Number.isFinite(value)
      ? `its event loop lags by ${Math.round(value)} ms`
      : 'its event loop was blocked for a whole sampling interval';
  }
  if (type === 'heapUsedBytes') return `its heap holds ${Math.round(value / 2 ** 20)} MiB, near its limit`;
  return `${type} is past its limit`;
}

/** Registered without encapsulation: it applies to every route of the app. */
export const loadSheddingPlugin = fp(loadShedding, { name: 'load-shedding' });
