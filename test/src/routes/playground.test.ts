import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { build } from '../../helpers/build.js';
import { send } from '../../helpers/http.js';

/** The page itself is tested in a browser (test/playground/playground.test.ts); these are its files over HTTP. */
describe('GET /playground', () => {
  it('redirects to /playground/, which serves the page under a strict Content-Security-Policy', async (t) => {
    const app = await build(t);
    const bare = await send(app, { method: 'GET', url: '/playground' });
    assert.equal(bare.statusCode, 301);
    assert.equal(bare.headers.location, '/playground/');
    const page = await send(app, { method: 'GET', url: '/playground/' });
    assert.equal(page.statusCode, 200);
    assert.match(String(page.headers['content-type']), /^text\/html/);
    assert.match(page.body, /<script type="module" src="main.js"><\/script>/);
    assert.doesNotMatch(
      page.body,
      /<script>|<style|style="|https?:\/\//,
      'no inline script or style, no asset from elsewhere',
    );
    const csp = String(page.headers['content-security-policy']);
    assert.match(csp, /script-src 'self'/);
    assert.match(csp, /style-src 'self'/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
  });

  it('serves the compiled scripts and styles from the service itself', async (t) => {
    const app = await build(t);
    for (const [file, type] of [
      ['main.js', /javascript/],
      ['geometry.js', /javascript/],
      ['style.css', /text\/css/],
      ['favicon.svg', /image\/svg\+xml/],
    ] as const) {
      const res = await send(app, { method: 'GET', url: `/playground/${file}` });
      assert.equal(res.statusCode, 200, file);
      assert.match(String(res.headers['content-type']), type, file);
    }
    const main = await send(app, { method: 'GET', url: '/playground/main.js' });
    for (const [, spec] of main.body.matchAll(/from '([^']+)'/g))
      assert.match(spec, /^\.\/[\w-]+\.js$/, 'imports stay within the folder');
  });

  it('answers a missing file with a problem document, and stays out of the OpenAPI document', async (t) => {
    const app = await build(t);
    const missing = await send(app, { method: 'GET', url: '/playground/nothing.js' });
    assert.equal(missing.statusCode, 404);
    assert.match(String(missing.headers['content-type']), /application\/problem\+json/);
    const doc = (await send(app, { method: 'GET', url: '/openapi.json' })).json() as { paths: Record<string, unknown> };
    assert.ok(!Object.keys(doc.paths).some((p) => p.startsWith('/playground')));
  });
});
