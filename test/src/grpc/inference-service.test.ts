import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { credentials, Metadata, type ServiceError, status } from '@grpc/grpc-js';
import { RawInferenceClient } from '../../../src/grpc/raw-client.js';
import { SLEEP } from '../../fixtures/faulty-worker.js';
import { faultyWorker, until } from '../../helpers/faults.js';
import { send } from '../../helpers/http.js';
import { InferenceClient, rawOf, refused, serve, unary } from './client.js';
import { params } from './messages.js';

/** The metadata RPCs, and what every call goes through: API key, limits, deadline, cancellation, framing. */

const small = () => ({
  model_name: 'conv2d',
  inputs: [
    { name: 'input', datatype: 'FP32', shape: [1, 1, 3, 3] },
    { name: 'weight', datatype: 'FP32', shape: [1, 1, 3, 3] },
  ],
  raw_input_contents: [rawOf(new Float32Array(9).fill(1)), rawOf(new Float32Array(9).fill(2))],
});

/** An im2col that the faulty worker sleeps `ms` in before running: a slow kernel. */
const sleeping = (ms: number) => ({
  model_name: 'im2col',
  parameters: params({ kernel_h: 1, kernel_w: 1 }),
  inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 1, 2] }],
  raw_input_contents: [rawOf(Float32Array.from([SLEEP, ms]))],
});

async function taskCount(app: Parameters<typeof send>[0], op: string, outcome: string): Promise<number> {
  const text = (await send(app, { method: 'GET', url: '/metrics' })).body;
  const m = new RegExp(`convsvc_task_duration_seconds_count\\{op="${op}",outcome="${outcome}"\\} (\\d+)`).exec(text);
  return m ? Number(m[1]) : 0;
}

describe('ServerLive, ServerReady, ServerMetadata, ModelReady, ModelMetadata', () => {
  it('answer as REST /v2 does', async (t) => {
    const { app, inference } = await serve(t);
    assert.deepEqual(await unary(inference, 'ServerLive', {}), { live: true });
    assert.deepEqual(await unary(inference, 'ServerReady', {}), { ready: true });
    const meta = await unary(inference, 'ServerMetadata', {});
    const rest = (await send(app, { method: 'GET', url: '/v2' })).json();
    assert.deepEqual({ ...meta }, rest);
    assert.deepEqual(await unary(inference, 'ModelReady', { name: 'conv2d' }), { ready: true });
    assert.deepEqual(await unary(inference, 'ModelReady', { name: 'conv2d', version: '1' }), { ready: true });
    const model = await unary(inference, 'ModelMetadata', { name: 'conv_transpose2d_backward' });
    const restModel = (await send(app, { method: 'GET', url: '/v2/models/conv_transpose2d_backward' })).json();
    assert.deepEqual(JSON.parse(JSON.stringify(model)), restModel);
  });

  it('an unknown model or version is NOT_FOUND, with REST’s message', async (t) => {
    const { inference } = await serve(t);
    for (const method of ['ModelReady', 'ModelMetadata']) {
      const err = await refused(unary(inference, method, { name: 'conv1d' }));
      assert.equal(err.code, status.NOT_FOUND, method);
      assert.match(err.details, /^no model conv1d; the models are /);
      const version = await refused(unary(inference, method, { name: 'conv2d', version: '3' }));
      assert.equal(version.code, status.NOT_FOUND);
    }
  });

  it('once shutdown has begun: not ready, and ModelInfer is UNAVAILABLE with Retry-After', async (t) => {
    const { app, inference } = await serve(t);
    app.pool.stopAdmitting();
    assert.deepEqual(await unary(inference, 'ServerReady', {}), { ready: false });
    assert.deepEqual(await unary(inference, 'ModelReady', { name: 'conv2d' }), { ready: false });
    assert.deepEqual(await unary(inference, 'ServerLive', {}), { live: true });
    const err = await refused(unary(inference, 'ModelInfer', small()));
    assert.equal(err.code, status.UNAVAILABLE);
    assert.match(err.details, /shutting down/);
    assert.deepEqual(err.metadata.get('retry-after'), ['1']);
  });
});

describe('API keys', () => {
  it('every RPC needs `authorization: Bearer <key>` when API_KEYS is set: UNAUTHENTICATED otherwise', async (t) => {
    const { inference } = await serve(t, { apiKeys: ['k1', 'k2'] });
    for (const [method, request] of [
      ['ServerLive', {}],
      ['ServerMetadata', {}],
      ['ModelMetadata', { name: 'conv2d' }],
      ['ModelInfer', small()],
    ] as const) {
      const none = await refused(unary(inference, method, request));
      assert.equal(none.code, status.UNAUTHENTICATED, method);
      assert.equal(none.details, 'an Authorization: Bearer <API key> header is required');
      const wrong = await refused(unary(inference, method, request, { authorization: 'Bearer k3' }));
      assert.equal(wrong.code, status.UNAUTHENTICATED);
      assert.equal(wrong.details, 'the bearer token is not a known API key');
      await unary(inference, method, request, { authorization: 'Bearer k2' });
      await unary(inference, method, request, { authorization: 'bearer k1' });
    }
  });

  it('the health service stays open, as /health/ready does', async (t) => {
    const { health } = await serve(t, { apiKeys: ['k1'] });
    assert.deepEqual(await unary(health, 'Check', { service: '' }), { status: 'SERVING' });
  });
});

describe('rate limit', () => {
  it('counts ModelInfer calls per API key, with REST’s requests in the same count: RESOURCE_EXHAUSTED past it', async (t) => {
    const { app, inference } = await serve(t, { apiKeys: ['k1', 'k2'], rateLimitMax: 3, rateLimitWindowMs: 60_000 });
    const k1 = { authorization: 'Bearer k1' };
    await unary(inference, 'ModelInfer', small(), k1);
    await unary(inference, 'ModelInfer', small(), k1);
    const rest = await send(app, {
      method: 'POST',
      url: '/v1/im2col',
      payload: { input: { shape: [1, 1, 2], data: [1, 2] }, kernelSize: 1 },
      headers: k1,
    });
    assert.equal(rest.statusCode, 200);
    const err = await refused(unary(inference, 'ModelInfer', small(), k1));
    assert.equal(err.code, status.RESOURCE_EXHAUSTED);
    assert.match(err.details, /^more than 3 requests in 60000 ms; retry in \d+ s$/);
    assert.ok(Number(err.metadata.get('retry-after')[0]) >= 1);
    // Another key has its own count; metadata RPCs are not counted.
    await unary(inference, 'ModelInfer', small(), { authorization: 'Bearer k2' });
    await unary(inference, 'ServerMetadata', {}, k1);
  });
});

describe('limits', () => {
  it('a message over MAX_BODY_BYTES is RESOURCE_EXHAUSTED before it is decoded', async (t) => {
    const { inference } = await serve(t, { maxBodyBytes: 4096 });
    const message = {
      ...small(),
      inputs: [
        { name: 'input', datatype: 'FP32', shape: [1, 1, 32, 32] },
        { name: 'weight', datatype: 'FP32', shape: [1, 1, 3, 3] },
      ],
      raw_input_contents: [rawOf(new Float32Array(1024)), rawOf(new Float32Array(9))],
    };
    const err = await refused(unary(inference, 'ModelInfer', message));
    assert.equal(err.code, status.RESOURCE_EXHAUSTED);
    assert.match(err.details, /larger than max/);
    await unary(inference, 'ModelInfer', small());
  });

  it('more multiply-adds than MAX_MACS is RESOURCE_EXHAUSTED (REST 413)', async (t) => {
    const { inference } = await serve(t, { maxMacs: 5 });
    const err = await refused(unary(inference, 'ModelInfer', small()));
    assert.equal(err.code, status.RESOURCE_EXHAUSTED);
    assert.match(err.details, /^the request costs 9 multiply-adds .*, more than the limit of 5$/);
  });

  it('a call the memory budget could never hold is RESOURCE_EXHAUSTED; the budget is given back after every call', async (t) => {
    const MiB = 2 ** 20;
    const { app, inference } = await serve(t, { memoryBudgetBytes: 16 * MiB });
    const big = {
      ...small(),
      inputs: [
        { name: 'input', datatype: 'FP32', shape: [1, 1, 1024, 1024] },
        { name: 'weight', datatype: 'FP32', shape: [1, 1, 3, 3] },
      ],
      raw_input_contents: [rawOf(new Float32Array(1024 * 1024)), rawOf(new Float32Array(9))],
    };
    const err = await refused(unary(inference, 'ModelInfer', big));
    assert.equal(err.code, status.RESOURCE_EXHAUSTED);
    assert.match(err.details, /memory budget/);
    await unary(inference, 'ModelInfer', small());
    assert.equal(app.memoryBudget.charged, 0);
    assert.equal(app.memoryBudget.requests, 0);
    assert.equal(app.pool.reserved, 0);
  });

  it('a call the memory budget cannot hold now is UNAVAILABLE with Retry-After', async (t) => {
    const MiB = 2 ** 20;
    const { app, inference } = await serve(t, { memoryBudgetBytes: 64 * MiB });
    const held = app.memoryBudget.open();
    held.set(app.memoryBudget.total - 100, 'a request in flight');
    t.after(() => held.release());
    const err = await refused(unary(inference, 'ModelInfer', small()));
    assert.equal(err.code, status.UNAVAILABLE);
    assert.match(err.details, /memory budget is taken by requests in flight/);
    assert.deepEqual(err.metadata.get('retry-after'), ['1']);
  });
});

describe('connections', () => {
  it('MAX_CONNECTIONS holds on the gRPC port as on HTTP: a connection past it is closed at once', async (t) => {
    const { address, inference } = await serve(t, { maxConnections: 1 });
    assert.deepEqual(await unary(inference, 'ServerLive', {}), { live: true });
    const second = new InferenceClient(address, credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 });
    t.after(() => second.close());
    const err = await refused(unary(second, 'ServerLive', {}, {}, { deadline: Date.now() + 1500 }));
    assert.ok([status.UNAVAILABLE, status.DEADLINE_EXCEEDED].includes(err.code), status[err.code]);
    assert.deepEqual(await unary(inference, 'ServerLive', {}), { live: true }, 'the first connection serves on');
  });
});

describe('deadline and cancellation', () => {
  it('the caller’s deadline, when nearer than REQUEST_TIMEOUT_MS, cancels the kernel: DEADLINE_EXCEEDED', async (t) => {
    const { app, inference } = await serve(t, { workers: 1 }, { workerEntry: faultyWorker });
    const [before] = app.pool.threadIds;
    const err = await refused(unary(inference, 'ModelInfer', sleeping(3000), {}, { deadline: Date.now() + 300 }));
    assert.equal(err.code, status.DEADLINE_EXCEEDED);
    await until(() => !app.pool.threadIds.includes(before));
    assert.ok(!app.pool.threadIds.includes(before), 'the sleeping kernel was stopped with its thread');
    await until(() => app.pool.reserved === 0);
    assert.equal(app.pool.reserved, 0);
  });

  it('REQUEST_TIMEOUT_MS, when nearer than the caller’s deadline: DEADLINE_EXCEEDED with REST’s 504 message', async (t) => {
    const { inference } = await serve(t, { workers: 1, requestTimeoutMs: 300 }, { workerEntry: faultyWorker });
    const err = await refused(unary(inference, 'ModelInfer', sleeping(3000), {}, { deadline: Date.now() + 10_000 }));
    assert.equal(err.code, status.DEADLINE_EXCEEDED);
    assert.match(err.details, /^the request took longer than 300 ms and was cancelled$/);
  });

  it('a cancelled call cancels its queued work, which never runs', async (t) => {
    const { app, inference } = await serve(
      t,
      { workers: 1, maxQueue: 4, inlineMaxMacs: 0 },
      { workerEntry: faultyWorker },
    );
    const slow = unary(inference, 'ModelInfer', sleeping(1500));
    await until(() => app.pool.reserved === 1 && app.pool.running === 1);
    const md = new Metadata();
    const call = (inference as any).ModelInfer(small(), md, (_err: ServiceError | null) => {});
    await until(() => app.pool.queueSize === 1);
    assert.equal(app.pool.queueSize, 1, 'the second call waits in the queue');
    call.cancel();
    await until(() => app.pool.queueSize === 0 && app.pool.reserved === 1);
    assert.equal(app.pool.reserved, 1, 'its slot is free while the slow call still runs');
    assert.equal(await taskCount(app, 'conv2d/forward', 'aborted'), 1);
    assert.equal(await taskCount(app, 'conv2d/forward', 'ok'), 0, 'it never ran');
    await slow;
  });
});

describe('malformed messages', () => {
  it('bytes that are no ModelInferRequest are refused with a status, and the server serves on', async (t) => {
    const { address, inference } = await serve(t);
    const raw = new RawInferenceClient(address, credentials.createInsecure());
    t.after(() => raw.close());
    const garbage = [
      Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff]), // a truncated varint tag
      Buffer.from([0x2a]), // an input with no length
      Buffer.from([0x2a, 0x05, 0x1a, 0x03, 0xff, 0xff, 0xff]), // an input whose shape is cut off
      Buffer.from([0x0b]), // a group start, never ended
    ];
    for (const bytes of garbage) {
      const err = await refused(unary(raw, 'ModelInfer', bytes));
      assert.equal(err.code, status.INVALID_ARGUMENT, bytes.toString('hex'));
      assert.match(err.details, /^the message is not a valid request of ModelInfer: /);
    }
    // An empty message is a valid one with every field unset: the protocol's refusal.
    const empty = await refused(unary(raw, 'ModelInfer', Buffer.alloc(0)));
    assert.equal(empty.code, status.NOT_FOUND);
    assert.deepEqual(await unary(inference, 'ServerLive', {}), { live: true });
  });

  it('a message of empty values that would hold over twice its size decoded is refused undecoded, and the server serves on', async (t) => {
    const { address, inference } = await serve(t);
    const raw = new RawInferenceClient(address, credentials.createInsecure());
    t.after(() => raw.close());
    // 2 M empty inputs in 4 MB: ~1.4 GB of objects had protobufjs decoded them.
    const empties = Buffer.alloc(4_000_000).fill(Buffer.of(0x2a, 0x00));
    const err = await refused(unary(raw, 'ModelInfer', empties));
    assert.equal(err.code, status.INVALID_ARGUMENT);
    assert.match(err.details, /would take more than \d+ once decoded .*too many empty or tiny values/);
    assert.deepEqual(await unary(inference, 'ServerLive', {}), { live: true });
  });

  it('hostile metadata: an oversized header list or too many entries end the call, and the server serves on', async (t) => {
    const { inference } = await serve(t);
    const huge = await refused(unary(inference, 'ServerLive', {}, { 'x-filler': 'x'.repeat(1024 * 1024) }));
    assert.notEqual(huge.code, status.OK);
    const entries = Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`x-h${i}`, 'v']));
    const many = await refused(unary(inference, 'ServerLive', {}, entries));
    assert.equal(many.code, status.RESOURCE_EXHAUSTED);
    assert.deepEqual(await unary(inference, 'ServerLive', {}), { live: true });
  });

  it('an authorization value that is no bearer token is UNAUTHENTICATED', async (t) => {
    const { inference } = await serve(t, { apiKeys: ['k1'] });
    for (const authorization of ['Bearer', 'Basic azE6', 'k1', `Bearer ${'k'.repeat(8000)}`]) {
      const err = await refused(unary(inference, 'ModelInfer', small(), { authorization }));
      assert.equal(err.code, status.UNAUTHENTICATED, authorization.slice(0, 20));
    }
  });
});
