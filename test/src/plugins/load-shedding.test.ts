import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { build } from '../../helpers/build.js';
import { until } from '../../helpers/faults.js';
import { send } from '../../helpers/http.js';

const body = { input: { shape: [1, 1, 2], data: [1, 2] }, kernelSize: 1 };

describe('load shedding (under-pressure)', () => {
  it('under memory pressure refuses op requests with 503 + Retry-After and fails readiness, while liveness, metrics and docs answer', async (t) => {
    // A heap limit of a few bytes: the first sample puts the process under pressure.
    const app = await build(t, {}, { loadShedding: { maxHeapShare: 1e-12 } });
    await until(() => app.isUnderPressure());
    assert.ok(app.isUnderPressure());
    const op = await send(app, { method: 'POST', url: '/v1/im2col', payload: body });
    assert.equal(op.statusCode, 503, op.body);
    assert.equal(op.json().type, '/problems/unavailable');
    assert.match(op.json().detail, /overloaded.*heap/);
    assert.equal(op.headers['retry-after'], '1');
    const ready = await send(app, { method: 'GET', url: '/health/ready' });
    assert.equal(ready.statusCode, 503);
    assert.match(ready.json().detail, /overloaded.*heap/);
    for (const url of ['/health/live', '/metrics', '/openapi.json'])
      assert.equal((await send(app, { method: 'GET', url })).statusCode, 200, url);
  });

  it('leaves a healthy process alone', async (t) => {
    const app = await build(t);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(app.isUnderPressure(), false);
    assert.equal((await send(app, { method: 'POST', url: '/v1/im2col', payload: body })).statusCode, 200);
  });

  it('does not take one task shorter than the delay limit for an overload', async (t) => {
    // 300 ms of synchronous work, again and again: each one longer than under-pressure's default
    // sampling interval, none near the limit.
    const app = await build(t, {}, { loadShedding: { maxEventLoopDelayMs: 600 } });
    const deadline = Date.now() + 2500;
    while (Date.now() < deadline) {
      const end = Date.now() + 300;
      while (Date.now() < end);
      const res = await send(app, { method: 'POST', url: '/v1/im2col', payload: body });
      assert.equal(res.statusCode, 200, res.body);
    }
  });
});
