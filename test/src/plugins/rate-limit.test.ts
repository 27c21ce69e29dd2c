import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { build } from '../../helpers/build.js';
import { send } from '../../helpers/http.js';

const body = { input: { shape: [1, 1, 2], data: [1, 2] }, kernelSize: 1 };
const op = (headers: Record<string, string> = {}) => ({
  method: 'POST' as const,
  url: '/v1/im2col',
  payload: body,
  headers,
});

describe('rate limit', () => {
  it('is off by default: no budget, no rate-limit headers', async (t) => {
    const app = await build(t);
    for (let i = 0; i < 12; i++) {
      const res = await send(app, op());
      assert.equal(res.statusCode, 200);
      assert.equal(res.headers['x-ratelimit-limit'], undefined);
    }
  });

  it('answers 429 with Retry-After as a problem document once a client passes RATE_LIMIT_MAX in the window', async (t) => {
    const app = await build(t, { rateLimitMax: 3, rateLimitWindowMs: 60_000 });
    for (let i = 0; i < 3; i++) {
      const res = await send(app, op());
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.headers['x-ratelimit-remaining'], String(2 - i));
    }
    const limited = await send(app, op());
    assert.equal(limited.statusCode, 429);
    assert.match(String(limited.headers['content-type']), /^application\/problem\+json/);
    assert.equal(limited.json().type, '/problems/rate-limited');
    assert.ok(Number(limited.headers['retry-after']) > 0, `retry-after ${limited.headers['retry-after']}`);
    assert.ok(limited.json().requestId);
  });

  it('never limits health, metrics or the docs', async (t) => {
    const app = await build(t, { rateLimitMax: 1 });
    for (let i = 0; i < 4; i++) {
      for (const url of ['/health/live', '/health/ready', '/metrics', '/openapi.json']) {
        assert.equal((await send(app, { method: 'GET', url })).statusCode, 200, url);
      }
    }
    assert.equal((await send(app, op())).statusCode, 200);
  });

  it('counts each API key on its own, and a made-up key gets 401, not a fresh budget', async (t) => {
    const app = await build(t, { rateLimitMax: 2, apiKeys: ['k-one', 'k-two'] });
    const one = { authorization: 'Bearer k-one' };
    const two = { authorization: 'Bearer k-two' };
    assert.equal((await send(app, op(one))).statusCode, 200);
    assert.equal((await send(app, op(one))).statusCode, 200);
    assert.equal((await send(app, op(one))).statusCode, 429);
    assert.equal((await send(app, op(two))).statusCode, 200, 'another key has its own budget');
    assert.equal((await send(app, op({ authorization: 'Bearer made-up' }))).statusCode, 401);
  });
});
