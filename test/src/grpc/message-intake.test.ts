import assert from 'node:assert/strict';
import { type ClientHttp2Stream, connect, constants } from 'node:http2';
import { describe, it, type TestContext } from 'node:test';
import { Metadata, status } from '@grpc/grpc-js';
import { FREE_PIECES } from '../../../src/body-pieces.js';
import { INFERENCE_SERVICE, serviceDefinition } from '../../../src/grpc/proto.js';
import { SHUTDOWN_UPLOAD_GRACE_MS } from '../../../src/plugins/admission.js';
import { until } from '../../helpers/faults.js';
import { rawOf, serve, unary } from './client.js';

/**
 * A gRPC message is bounded while it arrives as an HTTP body is: charged to the memory budget
 * byte by byte, cut off past the request's deadline or below the minimum pace, and given back
 * whatever becomes of its call.
 */

const MiB = 2 ** 20;
const PATH = '/inference.GRPCInferenceService/ModelInfer';

interface PartialCall {
  readonly stream: ClientHttp2Stream;
  /** The call's grpc-status once the server ended it. */
  readonly ended: Promise<{ code: number; message: string }>;
}

/** A small conv2d as a ModelInfer request, its tensors raw. */
const conv2dCall = () => ({
  model_name: 'conv2d',
  inputs: [
    { name: 'input', datatype: 'FP32', shape: [1, 1, 64, 64] },
    { name: 'weight', datatype: 'FP32', shape: [1, 1, 3, 3] },
  ],
  raw_input_contents: [rawOf(new Float32Array(64 * 64).fill(1)), rawOf(new Float32Array(9).fill(2))],
});

/** A call (ModelInfer unless `path` says) opened on `session`: its headers sent, its message not yet. */
function openCall(
  session: ReturnType<typeof connect>,
  headers: Record<string, string> = {},
  path = PATH,
): ClientHttp2Stream {
  const stream = session.request({
    ':method': 'POST',
    ':path': path,
    'content-type': 'application/grpc',
    te: 'trailers',
    ...headers,
  });
  stream.on('error', () => {});
  return stream;
}

/** A call on `session` whose message announces `length` bytes and sends `sent` of them, then waits. */
function partialMessage(
  session: ReturnType<typeof connect>,
  length: number,
  sent: number,
  headers: Record<string, string> = {},
  path = PATH,
): PartialCall {
  const stream = openCall(session, headers, path);
  const ended = new Promise<{ code: number; message: string }>((resolve) => {
    const settle = (h: Record<string, unknown>) => {
      if (h['grpc-status'] !== undefined)
        resolve({ code: Number(h['grpc-status']), message: decodeURIComponent(String(h['grpc-message'] ?? '')) });
    };
    stream.on('response', settle);
    stream.on('trailers', settle);
  });
  const prefix = Buffer.alloc(5);
  prefix.writeUInt32BE(length, 1);
  stream.write(prefix);
  stream.write(Buffer.alloc(sent, 1));
  return { stream, ended };
}

/** What `promise` settles to, or null if it has not within `ms`. */
const within = <T>(promise: Promise<T>, ms: number): Promise<T | null> =>
  Promise.race([promise, new Promise<null>((r) => setTimeout(() => r(null), ms).unref())]);

/** The app's gRPC server and a raw HTTP/2 session to it, closed after the test (the session first: a drain waits for it). */
async function served(t: TestContext, overrides: Parameters<typeof serve>[1]) {
  const s = await serve(null, overrides);
  const session = connect(`http://127.0.0.1:${s.port}`, { settings: { initialWindowSize: 2 ** 30 } });
  t.after(async () => {
    session.destroy();
    await s.close();
  });
  return { ...s, session };
}

describe('a gRPC message while it arrives', () => {
  it('is cut off with DEADLINE_EXCEEDED when it is not whole within the request deadline, and its bytes are given back', async (t) => {
    const { app, session } = await served(t, { requestTimeoutMs: 300 });
    const call = partialMessage(session, 2 * MiB, MiB);
    await until(() => app.memoryBudget.charged >= MiB);
    assert.ok(app.memoryBudget.charged >= MiB, `charged ${app.memoryBudget.charged} for the MiB received`);
    const end = await within(call.ended, 10_000);
    assert.ok(end, 'the call was ended');
    assert.equal(end.code, status.DEADLINE_EXCEEDED);
    assert.match(end.message, /deadline \(REQUEST_TIMEOUT_MS\)/);
    await until(() => app.memoryBudget.charged === 0 && app.uploads.size === 0);
    assert.equal(app.memoryBudget.charged, 0);
    assert.equal(app.uploads.size, 0);
  });

  it('is refused with INVALID_ARGUMENT in DATA frames too fine to read at a bounded cost, then read no more and reset', async (t) => {
    const { session } = await served(t, {});
    const call = partialMessage(session, 64 * 1024, 0);
    let reset = false;
    call.stream.once('close', () => (reset = call.stream.rstCode === constants.NGHTTP2_CANCEL));
    // A byte a frame: each write flushed before the next is queued.
    const one = Buffer.of(1);
    for (let i = 0; i < 4 * FREE_PIECES && !call.stream.closed; i++) {
      call.stream.write(one);
      await new Promise(setImmediate);
    }
    const end = await within(call.ended, 10_000);
    assert.ok(end, 'the call was ended');
    assert.equal(end.code, status.INVALID_ARGUMENT);
    assert.match(end.message, /chunks must average 512 bytes or more/);
    await until(() => call.stream.closed, 10_000);
    assert.ok(reset, 'the stream was reset with CANCEL');
  });

  it('is refused with UNAVAILABLE once the messages arriving would pass the memory budget, before any is whole', async (t) => {
    const { app, port } = await served(t, { memoryBudgetBytes: 16 * MiB, maxBodyBytes: 4 * MiB });
    // A connection each: Node's HTTP/2 bounds what one session buffers (maxSessionMemory) by itself.
    const sessions = Array.from({ length: 6 }, () => connect(`http://127.0.0.1:${port}`));
    t.after(() => {
      for (const s of sessions) s.destroy();
    });
    const calls = sessions.map((s) => partialMessage(s, 4 * MiB, 3 * MiB));
    const refused = await within(Promise.any(calls.map((c) => c.ended)), 10_000);
    assert.ok(refused, 'a call was refused');
    assert.equal(refused.code, status.UNAVAILABLE);
    assert.match(refused.message, /memory budget/);
    assert.ok(app.memoryBudget.charged <= 16 * MiB);
    for (const s of sessions) s.destroy();
    await until(() => app.memoryBudget.charged === 0 && app.memoryBudget.requests === 0);
    assert.equal(app.memoryBudget.charged, 0, 'every charge given back when the connection went');
    assert.equal(app.memoryBudget.requests, 0);
  });

  it("is ended with UNAVAILABLE at shutdown, after the uploads' grace period, and the server stops", async () => {
    const s = await serve(null);
    const session = connect(`http://127.0.0.1:${s.port}`);
    try {
      const call = partialMessage(session, 2 * MiB, MiB);
      await until(() => s.app.uploads.size === 1);
      const started = performance.now();
      const closed = s.close();
      const end = await within(call.ended, 10_000);
      assert.ok(end, 'the call was ended');
      assert.equal(end.code, status.UNAVAILABLE);
      assert.match(end.message, /shutting down/);
      assert.ok(performance.now() - started >= SHUTDOWN_UPLOAD_GRACE_MS - 50, 'after the grace period');
      session.destroy();
      assert.equal(
        await within(
          closed.then(() => 'closed'),
          10_000,
        ),
        'closed',
      );
    } finally {
      session.destroy();
      await s.close();
    }
  });

  it('carries its charge into a ModelInfer that runs, and all of it is given back after; a Watch holds none', async (t) => {
    const { app, inference, health } = await serve(t);
    const request = conv2dCall();
    const answers = await Promise.all(Array.from({ length: 8 }, () => unary(inference, 'ModelInfer', request)));
    assert.equal(answers.length, 8);
    await until(() => app.memoryBudget.requests === 0);
    assert.equal(app.memoryBudget.charged, 0);
    assert.equal(app.memoryBudget.requests, 0);

    const watch = (health as any).Watch({ service: '' }, new Metadata());
    const seen: string[] = [];
    watch.on('data', (m: { status: string }) => seen.push(m.status));
    watch.on('error', () => {});
    await until(() => seen.length === 1);
    assert.equal(app.uploads.size, 0, 'no upload watched for a call whose message is whole');
    assert.equal(app.memoryBudget.charged, 0);
    watch.cancel();
  });
});

describe('a call without the key its method needs', () => {
  it('is refused from its headers, its message neither read nor charged: UNAUTHENTICATED, and PERMISSION_DENIED for a load with an API key', async (t) => {
    const { app, session } = await served(t, {
      apiKeys: ['api-key'],
      adminApiKeys: ['admin-key'],
      requestTimeoutMs: 1000,
    });
    const stranger = partialMessage(session, 4 * MiB, MiB);
    const load = partialMessage(
      session,
      4 * MiB,
      MiB,
      { authorization: 'Bearer api-key' },
      '/inference.GRPCInferenceService/RepositoryModelLoad',
    );
    const closed = (call: PartialCall) =>
      new Promise<void>((resolve) => (call.stream.closed ? resolve() : call.stream.on('close', resolve)));
    const [s, l] = await Promise.all([within(stranger.ended, 3000), within(load.ended, 3000)]);
    assert.ok(s && l, 'both were ended before their messages were whole');
    assert.equal(s.code, status.UNAUTHENTICATED);
    assert.equal(l.code, status.PERMISSION_DENIED);
    // The rest is read away for as long as a message may take, not forever: then their streams are reset.
    assert.equal(
      await within(
        Promise.all([closed(stranger), closed(load)]).then(() => 'closed'),
        5000,
      ),
      'closed',
    );
    await until(() => app.memoryBudget.charged === 0 && app.uploads.size === 0);
    assert.equal(app.memoryBudget.charged, 0);
    assert.equal(app.uploads.size, 0);
  });
});

describe('a ModelInfer answer its client does not take', () => {
  it('holds its charge and slot, and past REQUEST_TIMEOUT_MS has its stream reset (CANCEL), giving them back', async (t) => {
    const s = await serve(null, { requestTimeoutMs: 1500 });
    // A window of 0: the client takes no byte of any answer.
    const session = connect(`http://127.0.0.1:${s.port}`, { settings: { initialWindowSize: 0 } });
    t.after(async () => {
      session.destroy();
      await s.close();
    });
    const message = serviceDefinition(INFERENCE_SERVICE).ModelInfer.requestSerialize(conv2dCall());
    const prefix = Buffer.alloc(5);
    prefix.writeUInt32BE(message.length, 1);
    const stream = openCall(session);
    const reset = new Promise<number>((resolve) => stream.on('close', () => resolve(stream.rstCode ?? -1)));
    stream.end(Buffer.concat([prefix, message]));
    const { app } = s;
    await until(() => app.deliveries.size === 1);
    const handedOver = performance.now();
    assert.equal(app.memoryBudget.requests, 1, 'the call still holds its charge');
    assert.equal(app.pool.reserved, 1, 'and its slot');
    const code = await within(reset, 10_000);
    assert.equal(code, constants.NGHTTP2_CANCEL);
    assert.ok(performance.now() - handedOver >= 1200, 'not before the deadline');
    await until(() => app.memoryBudget.requests === 0);
    assert.equal(app.memoryBudget.charged, 0);
    assert.equal(app.pool.reserved, 0);
    assert.equal(app.deliveries.cut, 1);
  });

  it('is not held once its client has taken it: the charge goes back with the answer', async (t) => {
    const { app, inference } = await serve(t, { requestTimeoutMs: 1500 });
    const request = conv2dCall();
    await unary(inference, 'ModelInfer', request);
    await until(() => app.deliveries.size === 0 && app.memoryBudget.requests === 0);
    assert.equal(app.deliveries.size, 0);
    assert.equal(app.memoryBudget.requests, 0);
    assert.equal(app.deliveries.cut, 0);
  });
});
