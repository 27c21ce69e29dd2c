import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import SwaggerParser from '@apidevtools/swagger-parser';
import type { FastifyInstance } from 'fastify';
import { renderOpenApi } from '../../../src/openapi-document.js';
import { opRoutes } from '../../../src/routes/op-routes.js';
import { build } from '../../helpers/build.js';
import { projectRoot } from '../../helpers/paths.js';
import { send } from '../../helpers/http.js';

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
        assert.ok(op.responses[status]?.content?.['application/problem+json'], `${route.op}: ${status} problem document`);
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
