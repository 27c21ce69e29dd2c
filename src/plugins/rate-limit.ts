import { createHash } from 'node:crypto';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { ClusterLink } from '../cluster/link.js';
import { LocalStoreCtor, RATE_CLIENTS } from '../cluster/primary.js';
import { ProblemError } from '../problems.js';
import { isOpRoute } from '../route-guards.js';
import { bearerToken } from './auth.js';

export interface RateLimitOptions {
  /** Op requests one client may make per window; 0 leaves the plugin out. */
  readonly max: number;
  readonly windowMs: number;
  /** Whether API keys are checked: then a client is its key, otherwise its IP address. */
  readonly keyed: boolean;
  /** The counts, shared with the other protocols (rateCounts); by default, the plugin's own. */
  readonly counts?: RateCounts;
  /** In a server process of several: the counts are kept by the primary, for the whole service. */
  readonly cluster?: ClusterLink;
}

type Counted = (err: Error | null, res?: { current: number; ttl: number }) => void;

/** Counts one request of a client in its window: how many it has made, and the ms the window has left. */
export type RateCounts = (key: string, windowMs: number, max: number) => Promise<{ current: number; ttl: number }>;

/**
 * The counts behind the rate limit, one for REST and gRPC alike: in a server process of several,
 * the primary's (src/cluster/primary.ts keeps them in @fastify/rate-limit's in-memory store), so
 * a client's limit is the service's however its connections are spread; alone, this process's
 * own store of the same kind.
 */
export function rateCounts(cluster?: ClusterLink): RateCounts {
  if (cluster) return (key, windowMs, max) => cluster.countRate(key, windowMs, max);
  const store = new LocalStoreCtor(false, false, RATE_CLIENTS);
  return (key, windowMs, max) => new Promise((resolve) => store.incr(key, (_err, res) => resolve(res), windowMs, max));
}

/** A @fastify/rate-limit store over the shared counts. */
function sharedStore(counts: RateCounts) {
  return class SharedStore {
    incr(key: string, cb: Counted, windowMs: number, max: number): void {
      counts(key, windowMs, max).then(
        (res) => cb(null, res),
        (err: Error) => cb(err),
      );
    }
    child(): SharedStore {
      return new SharedStore();
    }
  };
}

/** The refusal of a client past its limit (429), whatever protocol it came by. */
export const rateLimited = (max: number, windowMs: number, ttlMs: number): ProblemError =>
  new ProblemError(
    'rate-limited',
    `more than ${max} requests in ${windowMs} ms; retry in ${Math.max(1, Math.ceil(ttlMs / 1000))} s`,
    undefined,
    { 'retry-after': String(Math.max(1, Math.ceil(ttlMs / 1000))) },
  );

/**
 * A client, for counting: its API key (already checked by src/plugins/auth.ts, whose hook runs
 * first, so made-up tokens cannot mint fresh budgets) as a digest, never the key itself; else its
 * address.
 */
function clientOf(keyed: boolean) {
  return (request: FastifyRequest): string => clientKey(keyed ? bearerToken(request) : null, request.ip);
}

/** A client's key in the counts: its token's digest, else its address. */
export const clientKey = (token: string | null, ip: string): string =>
  token !== null ? `key:${createHash('sha256').update(token).digest('base64url').slice(0, 22)}` : `ip:${ip}`;

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
    store: sharedStore(opts.counts ?? rateCounts(opts.cluster)),
    // Should the primary not answer (it is gone, and this process is draining), requests pass
    // rather than fail.
    skipOnError: opts.cluster !== undefined,
    errorResponseBuilder: (_request, context) => rateLimited(context.max, opts.windowMs, context.ttl),
  });
}

/** Registered without encapsulation: it applies to every route added after it. */
export const rateLimitPlugin = fp(limit, { name: 'rate-limit' });
