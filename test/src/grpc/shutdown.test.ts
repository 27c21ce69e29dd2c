import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { status } from '@grpc/grpc-js';
import { faultyWorker, until } from '../../helpers/faults.js';
import { rawOf, refused, serve, unary } from './client.js';
import { params } from './messages.js';

const sleeping = (ms: number) => ({
  model_name: 'im2col',
  parameters: params({ kernel_h: 1, kernel_w: 1 }),
  inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 1, 2] }],
  raw_input_contents: [rawOf(Float32Array.from([-333, ms]))],
});

describe('shutdown (app.close, as SIGTERM runs it)', () => {
  it('lets calls in flight finish, refuses new ones UNAVAILABLE, and closes only then', async (t) => {
    const { app, inference } = await serve(t, { workers: 1 }, { workerEntry: faultyWorker });
    const slow = unary(inference, 'ModelInfer', sleeping(800));
    await until(() => app.pool.running === 1);
    let closed = false;
    const closing = app.close().then(() => {
      closed = true;
    });
    await until(() => app.pool.closing);
    const late = await refused(unary(inference, 'ModelInfer', sleeping(1)));
    assert.equal(late.code, status.UNAVAILABLE);
    assert.equal(closed, false, 'still draining');
    const res = await slow;
    assert.equal(res.outputs[0].name, 'columns', 'the call in flight got its answer');
    await closing;
    const after = await refused(unary(inference, 'ServerLive', {}, {}, { deadline: Date.now() + 2000 }));
    assert.equal(after.code, status.UNAVAILABLE);
  });

  it('past the grace period the pool cancels the work: UNAVAILABLE with Retry-After', async (t) => {
    const { app, inference } = await serve(t, { workers: 1 }, { workerEntry: faultyWorker });
    const slow = refused(unary(inference, 'ModelInfer', sleeping(5000)));
    await until(() => app.pool.running === 1);
    const closing = app.close();
    app.pool.cancelAll();
    const err = await slow;
    assert.equal(err.code, status.UNAVAILABLE);
    assert.match(err.details, /shut down before the work finished/);
    assert.deepEqual(err.metadata.get('retry-after'), ['1']);
    await closing;
  });
});
