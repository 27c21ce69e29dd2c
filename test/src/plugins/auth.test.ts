import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { build } from '../../helpers/build.js';
import { send } from '../../helpers/http.js';

const body = { input: { shape: [1, 1, 2], data: [1, 2] }, kernelSize: 1 };

describe('API keys', () => {
  it('lets every request through when API_KEYS is empty', async (t) => {
    const app = await build(t);
    assert.equal((await send(app, { method: 'POST', url: '/v1/im2col', payload: body })).statusCode, 200);
  });

  it('answers 401 without a bearer token or with an unknown one, and 200 with a known one', async (t) => {
    const app = await build(t, { apiKeys: ['k-one', 'k-two'] });
    const none = await send(app, { method: 'POST', url: '/v1/im2col', payload: body });
    assert.equal(none.statusCode, 401);
    assert.equal(none.json().type, '/problems/unauthorized');
    assert.equal(none.headers['www-authenticate'], 'Bearer');
    const wrong = await send(app, {
      method: 'POST',
      url: '/v1/im2col',
      payload: body,
      headers: { authorization: 'Bearer k-on' },
    });
    assert.equal(wrong.statusCode, 401);
    const basic = await send(app, {
      method: 'POST',
      url: '/v1/im2col',
      payload: body,
      headers: { authorization: 'Basic k-one' },
    });
    assert.equal(basic.statusCode, 401);
    for (const key of ['k-one', 'k-two']) {
      const ok = await send(app, {
        method: 'POST',
        url: '/v1/im2col',
        payload: body,
        headers: { authorization: `Bearer ${key}` },
      });
      assert.equal(ok.statusCode, 200, ok.body);
    }
  });

  it('guards every /v2 path, the protocol root included', async (t) => {
    const app = await build(t, { apiKeys: ['k'] });
    for (const url of ['/v2', '/v2/health/live', '/v2/models/conv2d']) {
      assert.equal((await send(app, { method: 'GET', url })).statusCode, 401, url);
      assert.equal(
        (await send(app, { method: 'GET', url, headers: { authorization: 'Bearer k' } })).statusCode,
        200,
        url,
      );
    }
  });

  it('leaves health, metrics and the docs open', async (t) => {
    const app = await build(t, { apiKeys: ['k'] });
    for (const url of ['/health/live', '/health/ready', '/metrics', '/openapi.json']) {
      assert.equal((await send(app, { method: 'GET', url })).statusCode, 200, url);
    }
  });
});
