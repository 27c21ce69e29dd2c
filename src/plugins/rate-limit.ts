import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { createHash } from 'node:crypto';
import { ProblemError } from '../problems.js';
import { isOpRoute } from '../route-guards.js';
import { bearerToken } from './auth.js';

export interface RateLimitOptions {
  /** Op requests one client may make per window; 0 leaves the plugin out. */
  readonly max: number;
  readonly windowMs: number;
  /** Whether API keys are checked: then a client is its key, otherwise its IP address. */
  readonly keyed: boolean;
}

/**
 * A client, for counting: its API key (already checked by src/plugins/auth.ts, whose hook runs
 * first, so made-up tokens cannot mint fresh budgets) as a digest, never the key itself; else its
 * address.
 */
function clientOf(keyed: boolean) {
  return (request: FastifyRequest): string => {
    const token = keyed ? bearerToken(request) : null;
    return token !== null ? `key:${createHash('sha256').update(token).digest('base64url').slice(0, 22)}` : `ip:${request.ip}`;
  };
}

/**
 * The optional per-client rate limit on the op routes (@fastify/rate-limit, in memory, per
 * process): past it, 429 with Retry-After as a problem document. Health, metrics and docs are
 * never limited. Registered before the routes, since the limit attaches to each route as it is
 * added.
 */
async function limit(app: FastifyInstance, opts: RateLimitOptions): Promise<void> {
  if (opts.max === 0) return;
  await app.register(rateLimit, {
    max: opts.max,
    timeWindow: opts.windowMs,
    keyGenerator: clientOf(opts.keyed),
    allowList: (request) => !isOpRoute(request),
    errorResponseBuilder: (_request, context) =>
      new ProblemError('rate-limited', `more than ${context.max} requests in ${opts.windowMs} ms; retry in ${context.after}`),
  });
}

/** Registered without encapsulation: it applies to every route added after it. */
export const rateLimitPlugin = fp(limit, { name: 'rate-limit' });
