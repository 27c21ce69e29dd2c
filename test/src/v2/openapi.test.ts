import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { build } from '../../helpers/build.js';
import { send } from '../../helpers/http.js';

/** The /v2 routes are part of the OpenAPI document, so the typed client knows them. */
let app: FastifyInstance;
let doc: { paths: Record<string, Record<string, any>> };
before(async () => {
  app = await build(null);
  doc = (await send(app, { method: 'GET', url: '/openapi.json' })).json();
});
after(() => app.close());

describe('the OpenAPI document, for /v2', () => {
  it('lists every protocol route with an operationId', () => {
    for (const [path, method] of [
      ['/v2', 'get'],
      ['/v2/health/live', 'get'],
      ['/v2/health/ready', 'get'],
      ['/v2/models/{model_name}', 'get'],
      ['/v2/models/{model_name}/ready', 'get'],
      ['/v2/models/{model_name}/infer', 'post'],
    ]) {
      assert.ok(doc.paths[path]?.[method]?.operationId, `${method.toUpperCase()} ${path}`);
    }
  });

  it('gives infer its {"error"} answers, both answer media types and an example the service answers', async () => {
    const op = doc.paths['/v2/models/{model_name}/infer'].post;
    for (const status of ['400', '401', '404', '413', '415', '422', '503', '504']) {
      assert.ok(op.responses[status]?.content?.['application/json'], status);
    }
    assert.deepEqual(Object.keys(op.responses['200'].content).sort(), ['application/json', 'application/octet-stream']);
    const example = op.requestBody.content['application/json'].example;
    const res = await send(app, { method: 'POST', url: '/v2/models/conv_transpose2d/infer', payload: example });
    assert.equal(res.statusCode, 200, res.body);
  });
});
