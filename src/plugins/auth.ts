import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { createHash, timingSafeEqual } from 'node:crypto';
import { ProblemError } from '../problems.js';

const digest = (s: string) => createHash('sha256').update(s).digest();

/** True when the path is `root` itself or below it (`/v2`, `/v2/models`, not `/v2x`). */
const under = (url: string, root: string): boolean =>
  url.startsWith(root) && (url.length === root.length || url[root.length] === '/' || url[root.length] === '?');

/**
 * Bearer-token check for every request under the API roots (/v1, /v2) when API_KEYS is set. Tokens are compared as SHA-256 digests with
 * timingSafeEqual, so neither the length nor the content of a key leaks through timing.
 */
async function auth(app: FastifyInstance, opts: { apiKeys: readonly string[]; roots: readonly string[] }): Promise<void> {
  if (opts.apiKeys.length === 0) return;
  const keys = opts.apiKeys.map(digest);
  app.addHook('onRequest', async (request, reply) => {
    if (!opts.roots.some((root) => under(request.url, root))) return;
    const header = request.headers.authorization ?? '';
    const match = /^Bearer (.+)$/i.exec(header);
    const presented = digest(match ? match[1] : '');
    let ok = false;
    for (const key of keys) ok = timingSafeEqual(key, presented) || ok;
    if (!ok) {
      reply.header('www-authenticate', 'Bearer');
      throw new ProblemError('unauthorized', match ? 'the bearer token is not a known API key' : 'an Authorization: Bearer <API key> header is required');
    }
  });
}

/** Registered without encapsulation: it applies to every route of the app. */
export const authPlugin = fp(auth, { name: 'auth' });
