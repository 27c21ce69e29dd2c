import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { build } from '../../helpers/build.js';
import { faultyWorker, sleepingBody, until } from '../../helpers/faults.js';
import { send } from '../../helpers/http.js';
import { trickle } from '../../helpers/raw-http.js';

describe('GET /metrics', () => {
  it('counts requests by route and status, times them, and reports the pool', async (t) => {
    const app = await build(t);
    const body = { input: { shape: [1, 1, 2], data: [1, 2] }, kernelSize: 1 };
    assert.equal((await send(app, { method: 'POST', url: '/v1/im2col', payload: body })).statusCode, 200);
    assert.equal(
      (await send(app, { method: 'POST', url: '/v1/im2col', payload: { ...body, kernelSize: 0 } })).statusCode,
      400,
    );
    const res = await send(app, { method: 'GET', url: '/metrics' });
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^text\/plain/);
    const text = res.body;
    assert.match(text, /convsvc_http_requests_total\{method="POST",route="\/v1\/im2col",status="200"\} 1/);
    assert.match(text, /convsvc_http_requests_total\{method="POST",route="\/v1\/im2col",status="400"\} 1/);
    assert.match(
      text,
      /convsvc_http_request_duration_seconds_bucket\{le="[^"]+",method="POST",route="\/v1\/im2col",status="200"\}/,
    );
    assert.match(text, /convsvc_task_duration_seconds_count\{op="im2col",outcome="ok"\} 1/);
    assert.match(text, /convsvc_pool_queue_length 0/);
    assert.match(text, /convsvc_pool_workers 2/);
  });

  it('needs METRICS_API_KEY when it is set, and no API key', async (t) => {
    const app = await build(t, { apiKeys: ['api'], metricsApiKeys: ['scraper'] });
    assert.equal((await send(app, { method: 'GET', url: '/metrics' })).statusCode, 401);
    assert.equal(
      (await send(app, { method: 'GET', url: '/metrics', headers: { authorization: 'Bearer api' } })).statusCode,
      401,
      'an API key is not a metrics key',
    );
    assert.equal(
      (await send(app, { method: 'GET', url: '/metrics', headers: { authorization: 'Bearer scraper' } })).statusCode,
      200,
    );
    assert.equal((await send(app, { method: 'GET', url: '/health/live' })).statusCode, 200, 'health stays open');
  });

  it('counts a client that hangs up before its answer as 499, whether its body had arrived or not', async (t) => {
    const app = await build(t, { workers: 1 }, { workerEntry: faultyWorker });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as AddressInfo;
    const payload = JSON.stringify(sleepingBody(2000));
    const req = httpRequest({
      host: '127.0.0.1',
      port,
      method: 'POST',
      path: '/v1/im2col',
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
    });
    req.on('error', () => {});
    req.end(payload);
    await until(() => app.pool.running === 1);
    req.destroy();
    const s = trickle(port, '/v1/conv2d/forward', { everyMs: 100 });
    await until(() => app.uploads.size === 1);
    s.stop();
    const counted = async () => (await send(app, { method: 'GET', url: '/metrics' })).body;
    await until(() => false, 300);
    const text = await counted();
    assert.match(text, /convsvc_http_requests_total\{method="POST",route="\/v1\/im2col",status="499"\} 1/);
    assert.match(text, /convsvc_http_requests_total\{method="POST",route="\/v1\/conv2d\/forward",status="499"\} 1/);
  });
});
