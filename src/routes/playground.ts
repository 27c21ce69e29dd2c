import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { projectRoot } from '../package-info.js';
import { ProblemError } from '../problems.js';

/** Where `npm run build:playground` puts the page (playground/tsconfig.json). */
export const PLAYGROUND_DIR = join(projectRoot, 'dist', 'public', 'playground');

/**
 * Same-origin scripts, styles and calls only, no inline code: the page needs nothing more, so a
 * script injected into it could do nothing. A policy set earlier (e.g. by helmet) is kept.
 */
export const PLAYGROUND_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** The playground page at /playground/ (/playground redirects there), served from its build. */
export async function playgroundRoutes(app: FastifyInstance): Promise<void> {
  app.addHook('onSend', async (_request, reply) => {
    if (!reply.hasHeader('content-security-policy')) reply.header('content-security-policy', PLAYGROUND_CSP);
    reply.header('x-content-type-options', 'nosniff');
  });
  if (!existsSync(join(PLAYGROUND_DIR, 'index.html'))) {
    // A tree built without `npm run build:playground`: say so instead of a bare 404.
    app.get('/playground*', { schema: { hide: true } }, async () => {
      throw new ProblemError(
        'not-found',
        'the playground is not built in this installation (npm run build:playground)',
      );
    });
    return;
  }
  await app.register(fastifyStatic, {
    root: PLAYGROUND_DIR,
    prefix: '/playground',
    redirect: true,
    decorateReply: false,
    index: 'index.html',
    // Scripts are not fingerprinted: revalidate each time (the ETag keeps that cheap).
    cacheControl: true,
    maxAge: 0,
  });
}
