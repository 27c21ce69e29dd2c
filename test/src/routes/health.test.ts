import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { build } from '../../helpers/build.js';
import { send } from '../../helpers/http.js';

describe('GET /health/live', () => {
  it('answers 200 {"status":"ok"} while the process runs', async (t) => {
    const app = await build(t);
    const res = await send(app, { method: 'GET', url: '/health/live' });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { status: 'ok' });
  });
});

describe('GET /health/ready', () => {
  it('answers 200 {"status":"ready"} once the pool is up', async (t) => {
    const app = await build(t);
    const res = await send(app, { method: 'GET', url: '/health/ready' });
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(res.json(), { status: 'ready' });
  });

  it('answers 503 with the reason once shutdown has begun', async (t) => {
    const app = await build(t);
    app.pool.stopAdmitting();
    const res = await send(app, { method: 'GET', url: '/health/ready' });
    assert.equal(res.statusCode, 503);
    assert.match(res.json().detail, /shutting down/);
  });
});
