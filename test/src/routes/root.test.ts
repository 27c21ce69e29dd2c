import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ROOT_LINKS } from '../../../src/routes/root.js';
import { build } from '../../helpers/build.js';
import { send } from '../../helpers/http.js';

describe('GET /', () => {
  it('answers a page linking the docs, the OpenAPI document, the playground, /v2 and health, each of which answers', async (t) => {
    const app = await build(t);
    const res = await send(app, { method: 'GET', url: '/', headers: { accept: 'text/html' } });
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^text\/html/);
    for (const href of ['/docs', '/openapi.json', '/playground/', '/v2', '/health/live', '/health/ready']) {
      assert.ok(res.body.includes(`href="${href}"`), href);
    }
    for (const { href } of ROOT_LINKS) {
      const target = await send(app, { method: 'GET', url: href });
      assert.ok(target.statusCode === 200 || target.statusCode === 302, `${href}: ${target.statusCode}`);
    }
  });

  it('answers the same links as JSON to a client that asks for JSON', async (t) => {
    const app = await build(t);
    const res = await send(app, { method: 'GET', url: '/', headers: { accept: 'application/json' } });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json().links, ROOT_LINKS);
  });
});
