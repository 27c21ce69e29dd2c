import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { opRoutes } from '../../src/routes/op-routes.js';
import { modelNames } from '../../src/v2/models.js';
import { build } from '../helpers/build.js';
import { type RawResponse, rawGet, rawPost, rawRequest } from '../helpers/raw-http.js';

/** Every route a key guards, with the method it answers. */
const guarded: readonly { method: 'GET' | 'POST'; path: string }[] = [
  ...opRoutes.map((r) => ({ method: 'POST' as const, path: `/v1/${r.op}` })),
  ...['/v2', '/v2/health/live', '/v2/health/ready'].map((path) => ({ method: 'GET' as const, path })),
  ...modelNames.flatMap((m) => [
    { method: 'GET' as const, path: `/v2/models/${m}` },
    { method: 'GET' as const, path: `/v2/models/${m}/ready` },
    { method: 'POST' as const, path: `/v2/models/${m}/infer` },
  ]),
  { method: 'GET', path: '/metrics' },
];

const hex = (c: string, upper: boolean) => {
  const h = c.charCodeAt(0).toString(16);
  return `%${upper ? h.toUpperCase() : h}`;
};

/**
 * Spellings of `path` that a router might take for it: each character of its first two segments
 * percent-encoded (either case), the target in absolute form, dot segments, doubled slashes,
 * another case, and suffixes.
 */
function spellings(path: string): string[] {
  const out = new Set<string>();
  const prefixEnd = path.indexOf('/', path.indexOf('/', 1) + 1);
  const upTo = prefixEnd < 0 ? path.length : prefixEnd;
  for (let i = 0; i < upTo; i++) {
    for (const upper of [false, true]) out.add(path.slice(0, i) + hex(path[i], upper) + path.slice(i + 1));
  }
  out.add(path.replace(/[a-z0-9]/g, (c) => hex(c, true)).replace(/^%2F/, '/'));
  const [, first, rest] = /^(\/[^/]*)(.*)$/.exec(path)!;
  out.add(`http://localhost${path}`);
  out.add(`HTTP://localhost:1${path}`);
  out.add(`//localhost${path}`);
  out.add(`${first}/.${rest}`);
  out.add(`${first}/%2e${rest}`);
  out.add(`/x/..${path}`);
  out.add(`/x/%2e%2e${path}`);
  out.add(`/${path}`);
  out.add(`${first}/${rest}`);
  out.add(path.toUpperCase());
  out.add(`${path}?x=1`);
  out.add(`${path};x`);
  out.add(`${path}/`);
  return [...out];
}

/**
 * Whether an answer without a key is a refusal that ran nothing: 401, 404, or a 400 for the
 * request-target itself (not a path, not HTTP, not decodable), never one from a route's schema.
 */
function refused(res: RawResponse): boolean {
  if (res.status === 401 || res.status === 404) return true;
  return res.status === 400 && /origin form|not valid HTTP|URL is not valid/.test(res.body);
}

describe('guards decide on the route that matched, never on the URL', () => {
  it('answers no spelling of a guarded route without a key, and every route with one', async (t) => {
    const app = await build(t, { apiKeys: ['k'], metricsApiKeys: ['m'] });
    await app.listen({ port: 0, host: '127.0.0.1' });
    let tried = 0;
    for (const { method, path } of guarded) {
      const key = path === '/metrics' ? 'm' : 'k';
      const ask = (target: string, headers = '') =>
        rawRequest(app, method === 'GET' ? rawGet(target, headers) : rawPost(target, '{}', headers));
      const withKey = await ask(path, `Authorization: Bearer ${key}\r\n`);
      assert.notEqual(withKey.status, 401, `${path} with its key`);
      assert.notEqual(withKey.status, 404, `${path} exists`);
      for (const target of spellings(path)) {
        const res = await ask(target);
        tried++;
        assert.ok(
          refused(res),
          `${method} ${target} without a key was answered ${res.status}: ${res.body.slice(0, 200)}`,
        );
      }
    }
    assert.ok(tried > 1000, `${tried} spellings tried`);
  });

  it('refuses a request-target that is not a path, on any route', async (t) => {
    const app = await build(t);
    await app.listen({ port: 0, host: '127.0.0.1' });
    for (const target of ['http://localhost/health/live', 'http://localhost/v1/im2col', '*']) {
      const res = await rawRequest(app, rawGet(target));
      assert.equal(res.status, 400, target);
      assert.match(res.head, /content-type: application\/problem\+json/i);
      assert.match(JSON.parse(res.body).detail, /origin form/);
    }
  });

  it('counts a spelled-out op route against the rate limit and admission like any other', async (t) => {
    const app = await build(t, { rateLimitMax: 2, rateLimitWindowMs: 60_000 });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const body = JSON.stringify({ input: { shape: [1, 1, 2], data: [1, 2] }, kernelSize: 1 });
    const statuses = [];
    for (const target of ['/v1/im2col', '/%761/im2col', '/%76%31/im%32col'])
      statuses.push((await rawRequest(app, rawPost(target, body))).status);
    assert.deepEqual(statuses, [200, 200, 429]);
    app.pool.stopAdmitting();
    assert.equal((await rawRequest(app, rawPost('/%761/im2col', body))).status, 503);
  });
});
