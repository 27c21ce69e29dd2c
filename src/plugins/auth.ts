import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { ProblemError } from '../problems.js';
import { type Guard, guardOf } from '../route-guards.js';

const digest = (s: string) => createHash('sha256').update(s).digest();

/** The token of an `Authorization: Bearer <token>` value (an HTTP header, gRPC metadata), or null. */
export const tokenOf = (authorization: string | undefined): string | null =>
  /^Bearer (.+)$/i.exec(authorization ?? '')?.[1] ?? null;

/** The token of an `Authorization: Bearer <token>` header, or null. */
export const bearerToken = (request: FastifyRequest): string | null => tokenOf(request.headers.authorization);

/**
 * The check of an `authorization` value against keys (as SHA-256 digests): null when it bears
 * one of them, else the refusal (401). Every key is compared, each with timingSafeEqual.
 */
export function keyRefusal(keys: readonly Buffer[], authorization: string | undefined): ProblemError | null {
  const token = tokenOf(authorization);
  const presented = digest(token ?? '');
  let ok = false;
  for (const key of keys) ok = timingSafeEqual(key, presented) || ok;
  if (ok) return null;
  return new ProblemError(
    'unauthorized',
    token === null
      ? 'an Authorization: Bearer <API key> header is required'
      : 'the bearer token is not a known API key',
  );
}

/** Keys as keyRefusal takes them. */
export const keyDigests = (keys: readonly string[]): Buffer[] => keys.map(digest);

export interface AuthOptions {
  /** Keys of the API (/v1, /v2); empty: the API is open. */
  readonly apiKeys: readonly string[];
  /** Keys of /metrics; empty: it is open. */
  readonly metricsKeys: readonly string[];
  /** Keys of the administrative routes; with API keys set and none of these, nobody may use them. */
  readonly adminKeys?: readonly string[];
}

/** The keys each guard needs (src/route-guards.ts); a guard without keys is open. */
export function guardKeys(opts: AuthOptions): Partial<Record<Guard, Buffer[]>> {
  const keysOf: Partial<Record<Guard, Buffer[]>> = {};
  if (opts.apiKeys.length > 0) keysOf.api = keysOf.op = keyDigests(opts.apiKeys);
  if (opts.metricsKeys.length > 0) keysOf.metrics = keyDigests(opts.metricsKeys);
  const adminKeys = opts.adminKeys ?? [];
  // An open API stays open to administration only while no key of either kind is set.
  if (opts.apiKeys.length > 0 || adminKeys.length > 0) keysOf.admin = keyDigests(adminKeys);
  return keysOf;
}

/**
 * The refusal of an `authorization` value (an HTTP header, gRPC metadata) on a route or call
 * of `guard`, or null when it may pass: 401 without a key of the guard, 403 for an API key
 * where an administrative one is needed.
 */
export function guardRefusal(
  keysOf: Partial<Record<Guard, Buffer[]>>,
  guard: Guard | undefined,
  authorization: string | undefined,
): ProblemError | null {
  const keys = guard === undefined ? undefined : keysOf[guard];
  if (keys === undefined) return null;
  const refusal = keyRefusal(keys, authorization);
  if (refusal === null) return null;
  if (guard === 'admin' && keysOf.api && keyRefusal(keysOf.api, authorization) === null)
    return new ProblemError(
      'forbidden',
      'this route needs an administrative key (ADMIN_API_KEYS); an API key is not one',
    );
  return refusal;
}

/**
 * Bearer-token checks, decided on the route that matched (src/route-guards.ts): the API's routes
 * need one of API_KEYS, /metrics one of METRICS_API_KEY, when they are set; the administrative
 * routes one of ADMIN_API_KEYS as soon as any API or admin key is set (an API key gets a 403). Tokens are compared as
 * SHA-256 digests with timingSafeEqual, so neither the length nor the content of a key leaks
 * through timing.
 */
async function auth(app: FastifyInstance, opts: AuthOptions): Promise<void> {
  const keysOf = guardKeys(opts);
  if (Object.keys(keysOf).length === 0) return;
  app.addHook('onRequest', (request, reply, done) => {
    const refusal = guardRefusal(keysOf, guardOf(request), request.headers.authorization);
    if (refusal === null) return done();
    if (refusal.status === 401) reply.header('www-authenticate', 'Bearer');
    done(refusal);
  });
}

/** Registered without encapsulation: it applies to every route of the app. */
export const authPlugin = fp(auth, { name: 'auth' });
