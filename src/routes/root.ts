import type { FastifyInstance } from 'fastify';
import { packageInfo } from '../package-info.js';

/** Where to go from the service's root, in the order a newcomer needs them. */
export const ROOT_LINKS = [
  { href: '/docs', title: 'API reference (Swagger UI)' },
  { href: '/openapi.json', title: 'OpenAPI document, for generating clients' },
  { href: '/playground/', title: 'Playground: the ops drawn, computed by this service' },
  { href: '/v2', title: 'Open Inference Protocol (KServe v2): server metadata' },
  { href: '/health/live', title: 'Liveness' },
  { href: '/health/ready', title: 'Readiness' },
] as const;

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const page = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(packageInfo.name)}</title></head>
<body><h1>${escapeHtml(packageInfo.name)} ${escapeHtml(packageInfo.version)}</h1>
<p>${escapeHtml(packageInfo.description)}</p>
<ul>${ROOT_LINKS.map((l) => `<li><a href="${l.href}">${escapeHtml(l.href)}</a>: ${escapeHtml(l.title)}</li>`).join('')}</ul>
</body></html>
`;

/**
 * `GET /`: a page of links for a person, or the same links as JSON for a client that asks for
 * JSON, instead of a 404 at the address anyone tries first.
 */
export async function rootRoute(app: FastifyInstance): Promise<void> {
  app.get('/', { schema: { hide: true } }, async (request, reply) => {
    reply.header('vary', 'accept');
    const accept = request.headers.accept ?? '';
    if (accept.includes('application/json') && !accept.includes('text/html')) {
      return reply
        .type('application/json')
        .send(JSON.stringify({ name: packageInfo.name, version: packageInfo.version, links: ROOT_LINKS }));
    }
    return reply.type('text/html; charset=utf-8').header('content-security-policy', "default-src 'none'").send(page);
  });
}
