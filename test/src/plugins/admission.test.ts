import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { expectedCost } from '../../../src/memory-model.js';
import { build } from '../../helpers/build.js';
import { faultyWorker, sleepingBody, smallBody, until } from '../../helpers/faults.js';
import { send } from '../../helpers/http.js';
import { rawRequest, type Trickler, trickle } from '../../helpers/raw-http.js';

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
      headers: {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
        expect: '100-continue',
      },
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

const MiB = 2 ** 20;

describe('slow uploads', () => {
  it('hold no slot: a client is served while 150 sockets trickle their bodies, which are cut off with 408', async (t) => {
    const app = await build(t, { workers: 1, maxQueue: 2 });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as AddressInfo;
    const tricklers: Trickler[] = [];
    t.after(() => {
      for (const s of tricklers) s.stop();
    });
    for (let i = 0; i < 150; i++)
      tricklers.push(trickle(port, i % 2 ? '/v1/conv2d/forward' : '/v2/models/conv2d/infer'));
    await until(() => app.pool.saturated === false && tricklers.every((s) => !s.closed()), 1000);
    for (let i = 0; i < 20; i++) {
      const res = await send(app, { method: 'POST', url: '/v1/im2col', payload: smallBody });
      assert.equal(res.statusCode, 200, `request ${i} while 150 sockets trickle: ${res.body}`);
      assert.equal((await send(app, { method: 'GET', url: '/health/ready' })).statusCode, 200, 'ready throughout');
    }
    // Below MIN_BODY_BYTES_PER_SECOND (16 KiB/s) over the 5 s window, each is cut off.
    const answers = await Promise.all(tricklers.map((s) => s.answered));
    for (const a of answers) {
      assert.equal(a.status, 408, a.head);
      assert.match(a.body, /below the minimum/);
    }
    assert.ok(
      tricklers.every((s) => s.closed()),
      'and their connections closed',
    );
  });

  it("spend the request's own deadline: a body still arriving at REQUEST_TIMEOUT_MS gets 408", async (t) => {
    const app = await build(t, { requestTimeoutMs: 800, minBodyBytesPerSecond: 0 });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as AddressInfo;
    const started = performance.now();
    const s = trickle(port, '/v1/im2col', { everyMs: 50 });
    t.after(() => s.stop());
    const res = await s.answered;
    assert.equal(res.status, 408);
    assert.match(res.body, /deadline \(REQUEST_TIMEOUT_MS\)/);
    assert.ok(performance.now() - started < 3000);
  });

  it('are answered 503 at shutdown after a second, and do not hold it up', async (t) => {
    const app = await build(null, { minBodyBytesPerSecond: 0 });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as AddressInfo;
    const s = trickle(port, '/v1/im2col', { everyMs: 100 });
    t.after(() => s.stop());
    await until(() => app.uploads.size === 1);
    const started = performance.now();
    await app.close();
    const res = await s.answered;
    assert.equal(res.status, 503, res.head);
    assert.match(res.body, /shutting down/);
    assert.ok(performance.now() - started < 3000, `closed in ${Math.round(performance.now() - started)} ms`);
  });
});

describe('the memory budget', () => {
  it('refuses with 413 a body that could never fit, before reading it, and says the limit', async (t) => {
    const pad = 'x'.repeat(8 * MiB);
    const app = await build(t, { memoryBudgetBytes: 16 * MiB });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const res = await postExpectingContinue(app, '/v1/im2col', pad);
    assert.equal(res.status, 413, res.body);
    assert.ok(!res.bodySent, 'the body was never sent');
    assert.match(JSON.parse(res.body).detail, /memory budget of 16\.0 MiB \(MEMORY_BUDGET_BYTES\)/);
  });

  it('charges a body as it arrives: while one holds the budget, the next is refused 503 + Retry-After before its body', async (t) => {
    const app = await build(t, { memoryBudgetBytes: 64 * MiB });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as AddressInfo;
    const { Socket } = await import('node:net');
    const holder = new Socket();
    t.after(() => holder.destroy());
    await new Promise<void>((r) => holder.connect(port, '127.0.0.1', r));
    // Its stated 20 MiB could fit (at least 3 x 20 MiB once parsed); 19 MiB of it are sent.
    holder.write(
      `POST /v1/im2col HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${20 * MiB}\r\n\r\n`,
    );
    holder.write(Buffer.alloc(19 * MiB, 0x20));
    // Charged in proportion as it arrives: 19/20 of what 20 MiB of JSON numbers may hold, capped at the budget.
    const share = Math.ceil(19 * MiB * (Math.min(expectedCost(20 * MiB, false), 64 * MiB) / (20 * MiB)));
    await until(() => app.memoryBudget.charged >= share);
    assert.equal(app.memoryBudget.charged, share, 'charged its share of what has arrived');
    // That share + at least 3 x 16 MiB for the next body: more than 64 MiB.
    const refused = await postExpectingContinue(app, '/v1/im2col', { pad: 'x'.repeat(16 * MiB) });
    assert.equal(refused.status, 503, refused.body);
    assert.ok(refused.headers['retry-after']);
    assert.ok(!refused.bodySent);
    assert.match(JSON.parse(refused.body).detail, /memory budget is taken/);
    const small = await send(app, { method: 'POST', url: '/v1/im2col', payload: smallBody });
    assert.equal(small.statusCode, 200, 'a small request still fits');
    const metrics = (await send(app, { method: 'GET', url: '/metrics' })).body;
    assert.match(metrics, new RegExp(`convsvc_memory_budget_bytes ${64 * MiB}`));
    assert.match(metrics, /convsvc_memory_refusals_total 1/);
    assert.match(metrics, new RegExp(`convsvc_memory_admitted_bytes ${share}`));
    holder.destroy();
    await until(() => app.memoryBudget.charged === 0);
    assert.equal(app.memoryBudget.charged, 0, 'a connection that closes gives its charge back');
  });

  it('charges the answer once its size is planned: a small body whose answer could never fit is refused 413 before the work, and gives its charge back', async (t) => {
    const app = await build(t, { memoryBudgetBytes: 64 * MiB });
    // 1 x 1 x 2 x 2 scattered at stride 2000: 4 M output elements of float32, 16 MB, ~160 MB as JSON numbers.
    const body = {
      input: { shape: [1, 1, 2, 2], data: [1, 2, 3, 4] },
      weight: { shape: [1, 1, 1, 1], data: [1] },
      stride: 2000,
    };
    const res = await send(app, { method: 'POST', url: '/v1/conv-transpose2d/forward', payload: body });
    assert.equal(res.statusCode, 413, res.body);
    assert.match(res.json().detail, /its answer/);
    assert.equal(app.memoryBudget.charged, 0);
  });

  it('charges what parsing a body of short values holds beyond its bytes: a body of zeros that fits as ordinary numbers is refused', async (t) => {
    const app = await build(t, { memoryBudgetBytes: 16 * MiB });
    // Input and weight of 256 Ki values each (one output element): 1 MiB of text either way.
    const bodyOf = (value: string) => {
      const n = (MiB / 2 / (value.length + 1)) | 0;
      const data = `[${Array(n).fill(value).join(',')}]`;
      return `{"input":{"shape":[1,1,1,${n}],"data":${data}},"weight":{"shape":[1,1,1,${n}],"data":${data}}}`;
    };
    const headers = { 'content-type': 'application/json' };
    const ordinary = await send(app, {
      method: 'POST',
      url: '/v1/conv2d/forward',
      headers,
      payload: bodyOf('0.1234567'),
    });
    assert.equal(ordinary.statusCode, 200, ordinary.body);
    // `0,`: some 11 x its bytes once parsed, where 6 x is the per-byte charge.
    const zeros = await send(app, { method: 'POST', url: '/v1/conv2d/forward', headers, payload: bodyOf('0') });
    assert.equal(zeros.statusCode, 413, zeros.body);
    assert.match(zeros.json().detail, /more than the service's memory budget of 16\.0 MiB/);
    assert.equal(app.memoryBudget.charged, 0, 'and gives its charge back');
  });
});

describe('an absolute-form or encoded target', () => {
  it('is admitted like its plain spelling', async (t) => {
    const app = await build(t, { memoryBudgetBytes: 32 * MiB });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const res = await rawRequest(
      app,
      `POST /%761/im2col HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${20 * MiB}\r\nExpect: 100-continue\r\n\r\n`,
    );
    assert.equal(res.status, 413, res.body);
  });
});

describe('answers their clients do not take', () => {
  /** A conv-transpose2d whose answer (1x128x128x128, JSON numbers, ~40 MB) outgrows the sockets' buffers. */
  const largeAnswer = JSON.stringify({
    input: { shape: [1, 1, 64, 64], data: Array.from({ length: 4096 }, (_, i) => (i % 7) / 7) },
    weight: { shape: [1, 128, 4, 4], data: Array.from({ length: 2048 }, (_, i) => (i % 5) / 5) },
    stride: 2,
    padding: 1,
  });

  it('hold what their request held until REQUEST_TIMEOUT_MS, then have their connection closed and give it all back', async (t) => {
    const app = await build(t, { requestTimeoutMs: 3000 });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as AddressInfo;
    const socket = connect(port, '127.0.0.1');
    t.after(() => socket.destroy());
    socket.on('error', () => {});
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    socket.write(
      `POST /v1/conv-transpose2d/forward HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(largeAnswer)}\r\n\r\n${largeAnswer}`,
    );
    // The client never reads.
    socket.pause();
    await until(() => app.deliveries.size === 1);
    const handedOver = performance.now();
    assert.equal(app.memoryBudget.requests, 1, 'the request still holds its charge');
    assert.equal(app.pool.reserved, 1, 'and its slot');
    await until(() => app.deliveries.cut === 1);
    const at = performance.now();
    assert.equal(app.deliveries.cut, 1, 'the answer was cut');
    assert.ok(at - handedOver >= 2500, `cut ${Math.round(at - handedOver)} ms after the answer was handed over`);
    await until(() => app.memoryBudget.requests === 0);
    assert.equal(app.memoryBudget.charged, 0);
    assert.equal(app.pool.reserved, 0);
    assert.equal(app.deliveries.size, 0);
    // Its connection is gone: the client, reading at last, comes to its end.
    socket.resume();
    assert.equal(
      await Promise.race([closed.then(() => 'closed'), new Promise((r) => setTimeout(r, 10_000, 'open'))]),
      'closed',
    );
  });

  it('are not cut when the client reads them', async (t) => {
    const app = await build(t, { requestTimeoutMs: 3000 });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as AddressInfo;
    const res = await fetch(`http://127.0.0.1:${port}/v1/conv-transpose2d/forward`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: largeAnswer,
    });
    assert.equal(res.status, 200);
    const answer = (await res.json()) as { output: { shape: number[] } };
    assert.deepEqual(answer.output.shape, [1, 128, 128, 128]);
    await until(() => app.deliveries.size === 0);
    assert.equal(app.deliveries.cut, 0);
    assert.equal(app.memoryBudget.requests, 0);
  });
});
