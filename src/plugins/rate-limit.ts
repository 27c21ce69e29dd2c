import { createHash } from 'node:crypto';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { ClusterLink } from '../cluster/link.js';
import { ProblemError } from '../problems.js';
import { isOpRoute } from '../route-guards.js';
import { bearerToken } from './auth.js';

export interface RateLimitOptions {
  /** Op requests one client may make per window; 0 leaves the plugin out. */
  readonly max: number;
  readonly windowMs: number;
  /** Whether API keys are checked: then a client is its key, otherwise its IP address. */
  readonly keyed: boolean;
  /** In a server process of several: the counts are kept by the primary, for the whole service. */
  readonly cluster?: ClusterLink;
}

type Counted = (err: Error | null, res?: { current: number; ttl: number }) => void;

/**
 * A @fastify/rate-limit store whose counts live in the primary (src/cluster/primary.ts keeps them
 * in the plugin's own in-memory store), so a client's limit is the service's, however its
 * connections are spread over the server processes.
 */
function serviceStore(link: ClusterLink) {
  return class ServiceStore {
    incr(key: string, cb: Counted, windowMs: number, max: number): void {
      link.countRate(key, windowMs, max).then(
        (res) => cb(null, res),
        (err: Error) => cb(err),
      );
    }
    child(): ServiceStore {
      return new ServiceStore();
    }
  };
}

/**
 * A client, for counting: its API key (already checked by src/plugins/auth.ts, whose hook runs
 * first, so made-up tokens cannot mint fresh budgets) as a digest, never the key itself; else its
 * address.
 */
function clientOf(keyed: boolean) {
  return (request: FastifyRequest): string => {
    const token = keyed ? bearerToken(request) : null;
    return token !== null
      ? `key:${createHash('sha256').update(token).digest('base64url').slice(0, 22)}`
      : `ip:${request.ip}`;
  };
}

/**
 * The optional per-client rate limit on the op routes (@fastify/rate-limit, in memory; with
 * several server processes, in the primary's): past it, 429 with Retry-After as a problem document. Health, metrics and docs are
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
    // Should the primary not answer (it is gone, and this process is draining), requests pass
    // rather than fail.
    ...(opts.cluster ? { store: serviceStore(opts.cluster), skipOnError: true } : {}),
    errorResponseBuilder: (_request, context) =>
      new ProblemError(
        'rate-limited',
        `more than ${context.max} requests in ${opts.windowMs} ms; retry in ${context.after}`,
      ),
  });
}

/** Registered without encapsulation: it applies to every route added after it. */
export const rateLimitPlugin = fp(limit, { name: 'rate-limit' });
