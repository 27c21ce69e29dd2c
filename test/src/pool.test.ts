import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { build } from '../helpers/build.js';
import { send } from '../helpers/http.js';

/**
 * A conv2d of ~9.7 G multiply-adds: it keeps a worker busy far longer than these tests wait, on
 * any kernel this service will have (~70 MB of tensors). Its values do not matter: zeros.
 */
const zeros = (shape: number[]) => ({ shape, b64: Buffer.alloc(shape.reduce((a, b) => a * b, 1) * 4).toString('base64') });
const huge = { input: zeros([1, 256, 64, 64]), weight: zeros([1024, 256, 3, 3]), padding: 1 };
const small = { input: { shape: [1, 1, 2], data: [1, 2] }, kernelSize: 1 };
const limits = { maxElements: 2 ** 24, maxMacs: 2 ** 40, maxBodyBytes: 64 * 2 ** 20 };

async function until(condition: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!condition() && Date.now() < end) await new Promise((r) => setTimeout(r, 2));
}

describe('deadlines', () => {
  it('answers 504 when REQUEST_TIMEOUT_MS passes, and the pool stays usable', async (t) => {
    const app = await build(t, { ...limits, requestTimeoutMs: 100, workers: 1 });
    const res = await send(app, { method: 'POST', url: '/v1/conv2d/forward', payload: huge });
    assert.equal(res.statusCode, 504, res.body.slice(0, 300));
    assert.equal(res.json().type, '/problems/timeout');
    // The aborted task's thread was ended; the pool starts another.
    await until(() => app.pool.workers === 1);
    const next = await send(app, { method: 'POST', url: '/v1/im2col', payload: small });
    assert.equal(next.statusCode, 200, next.body);
  });
});

describe('admission', () => {
  it('answers 503 with Retry-After when every worker is busy and the queue is full', async (t) => {
    const app = await build(t, { ...limits, workers: 1, maxQueue: 0, requestTimeoutMs: 1000 });
    const busy = send(app, { method: 'POST', url: '/v1/conv2d/forward', payload: huge });
    await until(() => app.pool.saturated);
    assert.ok(app.pool.saturated, 'the pool is busy');
    const refused = await send(app, { method: 'POST', url: '/v1/im2col', payload: small });
    assert.equal(refused.statusCode, 503, refused.body);
    assert.equal(refused.json().type, '/problems/unavailable');
    assert.equal(refused.headers['retry-after'], '1');
    const ready = await send(app, { method: 'GET', url: '/health/ready' });
    assert.equal(ready.statusCode, 503);
    assert.ok([200, 504].includes((await busy).statusCode));
    await until(() => !app.pool.saturated);
    const after = await send(app, { method: 'POST', url: '/v1/im2col', payload: small });
    assert.equal(after.statusCode, 200, after.body);
  });

  it('answers 503 to new work once shutdown has begun', async (t) => {
    const app = await build(t);
    app.pool.stopAdmitting();
    const res = await send(app, { method: 'POST', url: '/v1/im2col', payload: small });
    assert.equal(res.statusCode, 503);
    assert.ok(res.headers['retry-after']);
  });
});
