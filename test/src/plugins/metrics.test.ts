import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { build } from '../../helpers/build.js';
import { send } from '../../helpers/http.js';

describe('GET /metrics', () => {
  it('counts requests by route and status, times them, and reports the pool', async (t) => {
    const app = await build(t);
    const body = { input: { shape: [1, 1, 2], data: [1, 2] }, kernelSize: 1 };
    assert.equal((await send(app, { method: 'POST', url: '/v1/im2col', payload: body })).statusCode, 200);
    assert.equal((await send(app, { method: 'POST', url: '/v1/im2col', payload: { ...body, kernelSize: 0 } })).statusCode, 400);
    const res = await send(app, { method: 'GET', url: '/metrics' });
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^text\/plain/);
    const text = res.body;
    assert.match(text, /convsvc_http_requests_total\{method="POST",route="\/v1\/im2col",status="200"\} 1/);
    assert.match(text, /convsvc_http_requests_total\{method="POST",route="\/v1\/im2col",status="400"\} 1/);
    assert.match(text, /convsvc_http_request_duration_seconds_bucket\{le="[^"]+",method="POST",route="\/v1\/im2col",status="200"\}/);
    assert.match(text, /convsvc_task_duration_seconds_count\{op="im2col",outcome="ok"\} 1/);
    assert.match(text, /convsvc_pool_queue_length 0/);
    assert.match(text, /convsvc_pool_workers 2/);
  });
});
