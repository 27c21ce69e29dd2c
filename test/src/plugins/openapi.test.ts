import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import SwaggerParser from '@apidevtools/swagger-parser';
import type { FastifyInstance } from 'fastify';
import { renderOpenApi } from '../../../src/openapi-document.js';
import { opRoutes } from '../../../src/routes/op-routes.js';
import { build } from '../../helpers/build.js';
import { send } from '../../helpers/http.js';
import { projectRoot } from '../../helpers/paths.js';

type Operation = {
  summary?: string;
  description?: string;
  operationId?: string;
  requestBody?: { content: Record<string, { example?: unknown }> };
  responses: Record<string, { content?: Record<string, unknown> }>;
};

let app: FastifyInstance;
let served: { openapi: string; paths: Record<string, Record<string, Operation>> };
before(async () => {
  app = await build(null);
  const res = await send(app, { method: 'GET', url: '/openapi.json' });
  assert.equal(res.statusCode, 200);
  served = res.json();
});
after(() => app.close());

describe('the OpenAPI document', () => {
  it('is committed as openapi/openapi.json, exactly as served (run `npm run openapi` after a change)', () => {
    const committed = readFileSync(join(projectRoot, 'openapi', 'openapi.json'), 'utf8');
    assert.equal(committed, renderOpenApi(served));
  });

  it('is a valid OpenAPI 3 document', async () => {
    assert.match(served.openapi, /^3\./);
    await SwaggerParser.validate(structuredClone(served) as never);
  });

  it('describes every op route with a summary, a description, an example request and its error answers', async () => {
    for (const route of opRoutes) {
      const op = served.paths[`/v1/${route.op}`]?.post;
      assert.ok(op, `/v1/${route.op} is documented`);
      assert.ok(op.summary && op.description && op.operationId, `${route.op}: summary, description, operationId`);
      const example = op.requestBody?.content['application/json']?.example;
      assert.ok(example, `${route.op}: example request`);
      for (const status of ['400', '413', '415', '422', '503', '504']) {
        assert.ok(
          op.responses[status]?.content?.['application/problem+json'],
          `${route.op}: ${status} problem document`,
        );
      }
    }
  });

  it('has example requests the service answers with 200', async () => {
    for (const route of opRoutes) {
      const example = served.paths[`/v1/${route.op}`].post.requestBody!.content['application/json'].example;
      const res = await send(app, { method: 'POST', url: `/v1/${route.op}`, payload: example as object });
      assert.equal(res.statusCode, 200, `${route.op}: ${res.body}`);
    }
  });

  it('is browsable in Swagger UI at /docs', async () => {
    const res = await send(app, { method: 'GET', url: '/docs/' });
    assert.equal(res.statusCode, 200);
    assert.match(res.body, /swagger-ui/i);
  });
});

describe('Swagger UI at /docs', () => {
  it("is served with a browser's security headers, scripts from its own origin only", async () => {
    for (const url of ['/docs', '/docs/', '/docs/static/swagger-initializer.js', '/docs/json']) {
      const res = await send(app, { method: 'GET', url });
      assert.equal(res.statusCode, 200, url);
      const csp = String(res.headers['content-security-policy']);
      assert.match(csp, /default-src 'self'/, url);
      assert.match(csp, /script-src 'self'(;|$)/, url);
      assert.match(csp, /frame-ancestors 'self'/, url);
      assert.equal(res.headers['x-content-type-options'], 'nosniff', url);
      assert.ok(res.headers['strict-transport-security'], url);
    }
    const page = await send(app, { method: 'GET', url: '/docs/' });
    assert.doesNotMatch(
      page.body,
      /<script>(?!\s*<\/script>)|<script(?![^>]*\bsrc=)[^>]*>\s*\S/,
      'no inline script the CSP would block',
    );
  });

  it('leaves the JSON answers of the API without them', async () => {
    const res = await send(app, { method: 'GET', url: '/health/live' });
    assert.equal(res.headers['content-security-policy'], undefined);
  });
});
