import type { FastifyRequest, RouteOptions } from 'fastify';

/**
 * What protects a route, declared on the route itself (its `config.guard`) and read from the
 * route that matched: never from the request's URL, which has many spellings for one route
 * (`/%761/...`, `http://host/v1/...`) while the router decodes them all to the same one.
 *
 * - `api`: the API (/v1, /v2): needs an API key when API_KEYS is set.
 * - `op`: an API route that runs kernels: also rate-limited, shed under pressure, admitted by
 *   memory and slots.
 * - `admin`: an API route that changes what the service serves (loading layers): needs one of
 *   ADMIN_API_KEYS whenever any keys are set; an API key is not one.
 * - `metrics`: /metrics: needs METRICS_API_KEY when it is set.
 * - none: health, docs, playground, problem types and the not-found answer.
 */
export type Guard = 'api' | 'op' | 'admin' | 'metrics';

declare module 'fastify' {
  interface FastifyContextConfig {
    guard?: Guard;
  }
}

/** The guard of the route `request` matched; undefined for an unguarded route or none. */
export const guardOf = (request: FastifyRequest): Guard | undefined => request.routeOptions.config?.guard;

/** Whether `request` matched a route that runs kernels. */
export const isOpRoute = (request: FastifyRequest): boolean => guardOf(request) === 'op';

/** Whether `request` matched a route of the API (/v1, /v2), kernels or not. */
export const isApiRoute = (request: FastifyRequest): boolean => {
  const guard = guardOf(request);
  return guard === 'api' || guard === 'op';
};

/**
 * An onRoute hook for a plugin whose every route belongs to the API: a route that declares no
 * guard of its own gets `api`, so no route of the plugin is left open by omission.
 */
export function guardEveryRoute(route: RouteOptions): void {
  route.config = { guard: 'api', ...route.config };
}
