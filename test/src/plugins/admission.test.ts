import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { build } from '../../helpers/build.js';
import { faultyWorker, sleepingBody, smallBody, until } from '../../helpers/faults.js';
import { send } from '../../helpers/http.js';

interface Outcome {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
  /** Whether the server asked for the body (100 Continue) and so received it. */
  readonly bodySent: boolean;
}

/** POSTs with `Expect: 100-continue`, sending the body only if the server says 100 Continue. */
function postExpectingContinue(app: FastifyInstance, url: string, payload: unknown): Promise<Outcome> {
  const { port } = app.server.address() as AddressInfo;
  const body = JSON.stringify(payload);
  return new Promise((resolve, reject) => {
    let bodySent = false;
    const req = httpRequest({
      host: '127.0.0.1',
      port,
      path: url,
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), expect: '100-continue' },
    });
    req.on('continue', () => {
      bodySent = true;
      req.end(body);
    });
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text, bodySent }));
    });
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error('no answer within 10 s')));
  });
}

describe('Expect: 100-continue', () => {
  it('is answered 100 Continue, then 200, while the service has room', async (t) => {
    const app = await build(t, { workers: 1 }, { workerEntry: faultyWorker });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const res = await postExpectingContinue(app, '/v1/im2col', smallBody);
    assert.equal(res.status, 200, res.body);
    assert.ok(res.bodySent);
    assert.deepEqual(JSON.parse(res.body).columns.data, [1, 2]);
  });

  it('is refused with 503 + Retry-After before the body is sent when the service is saturated', async (t) => {
    const app = await build(t, { workers: 1, maxQueue: 0 }, { workerEntry: faultyWorker });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const slow = send(app, { method: 'POST', url: '/v1/im2col', payload: sleepingBody(800) });
    await until(() => app.pool.saturated);
    assert.ok(app.pool.saturated, 'the only slot is taken');
    const res = await postExpectingContinue(app, '/v1/im2col', smallBody);
    assert.equal(res.status, 503);
    assert.equal(res.bodySent, false, 'the client never sent its body');
    assert.equal(res.headers['retry-after'], '1');
    assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
    const doc = JSON.parse(res.body);
    assert.equal(doc.type, '/problems/unavailable');
    assert.equal(doc.requestId, res.headers['x-request-id']);
    assert.equal((await slow).statusCode, 200);
  });
});
