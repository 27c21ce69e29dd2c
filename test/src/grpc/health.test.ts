import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Metadata, status } from '@grpc/grpc-js';
import { faultyWorker, until } from '../../helpers/faults.js';
import { send } from '../../helpers/http.js';
import { rawOf, refused, serve, unary } from './client.js';
import { params } from './messages.js';

/** grpc.health.v1.Health: SERVING exactly when /health/ready answers 200. */

const SERVICES = ['', 'inference.GRPCInferenceService'];

describe('Check', () => {
  it('is SERVING for the server and the inference service while /health/ready is 200', async (t) => {
    const { app, health } = await serve(t);
    assert.equal((await send(app, { method: 'GET', url: '/health/ready' })).statusCode, 200);
    for (const service of SERVICES) assert.deepEqual(await unary(health, 'Check', { service }), { status: 'SERVING' });
  });

  it('is NOT_SERVING whenever /health/ready is 503: a saturated pool, shutdown', async (t) => {
    const { app, health, inference } = await serve(t, { workers: 1, maxQueue: 0 }, { workerEntry: faultyWorker });
    const slow = unary(inference, 'ModelInfer', {
      model_name: 'im2col',
      parameters: params({ kernel_h: 1, kernel_w: 1 }),
      inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 1, 2] }],
      raw_input_contents: [rawOf(Float32Array.from([-333, 800]))],
    });
    await until(() => app.pool.saturated);
    assert.equal((await send(app, { method: 'GET', url: '/health/ready' })).statusCode, 503);
    for (const service of SERVICES)
      assert.deepEqual(await unary(health, 'Check', { service }), { status: 'NOT_SERVING' });
    await slow;
    assert.deepEqual(await unary(health, 'Check', { service: '' }), { status: 'SERVING' });
    app.pool.stopAdmitting();
    assert.deepEqual(await unary(health, 'Check', { service: '' }), { status: 'NOT_SERVING' });
  });

  it('a service the server does not have is NOT_FOUND', async (t) => {
    const { health } = await serve(t);
    const err = await refused(unary(health, 'Check', { service: 'grpc.reflection.v1.ServerReflection' }));
    assert.equal(err.code, status.NOT_FOUND);
  });
});

/** A Watch call's statuses as they come, and its end. */
function watch(client: unknown, service: string) {
  const seen: string[] = [];
  const stream = (client as any).Watch({ service }, new Metadata());
  const ended = new Promise<{ code: number }>((resolve) => {
    stream.on('data', (m: { status: string }) => seen.push(m.status));
    stream.on('status', (s: { code: number }) => resolve(s));
    stream.on('error', () => {});
  });
  return { seen, stream, ended };
}

describe('Watch', () => {
  it('sends the status, then each change; at shutdown NOT_SERVING, and the call ends', async (t) => {
    const { app, health } = await serve(t);
    const w = watch(health, '');
    await until(() => w.seen.length === 1);
    assert.deepEqual(w.seen, ['SERVING']);
    app.pool.stopAdmitting();
    await until(() => w.seen.length === 2, 3000);
    assert.deepEqual(w.seen, ['SERVING', 'NOT_SERVING']);
    await app.close();
    const end = await w.ended;
    assert.equal(end.code, status.OK);
  });

  it('a Watch of an unknown service says SERVICE_UNKNOWN; cancelling a Watch ends it', async (t) => {
    const { health } = await serve(t);
    const w = watch(health, 'no.such.Service');
    await until(() => w.seen.length === 1);
    assert.deepEqual(w.seen, ['SERVICE_UNKNOWN']);
    w.stream.cancel();
    assert.equal((await w.ended).code, status.CANCELLED);
  });
});
