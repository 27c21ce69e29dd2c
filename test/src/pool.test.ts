import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getPriority } from 'node:os';
import { describe, it } from 'node:test';
import { KernelPool, WORKER_NICENESS } from '../../src/pool.js';
import { macs } from '../../src/split.js';
import type { Task } from '../../workers/tasks.js';
import type { Probe } from '../fixtures/require-probe-worker.js';
import { build } from '../helpers/build.js';
import { faultyWorker, sleepingBody, smallBody, until } from '../helpers/faults.js';
import { send } from '../helpers/http.js';
import {
  conv2dGeometry,
  convTranspose2dGeometry,
  inputLength,
  outputLength,
  weightLength,
} from '../workers/helpers/geometry.js';
import { random } from '../workers/helpers/tensors.js';

/**
 * A conv2d of ~9.7 G multiply-adds: it keeps a worker busy far longer than these tests wait, on
 * any kernel this service will have (~70 MB of tensors). Its values do not matter: zeros.
 */
const zeros = (shape: number[]) => ({
  shape,
  b64: Buffer.alloc(shape.reduce((a, b) => a * b, 1) * 4).toString('base64'),
});
const huge = { input: zeros([1, 256, 64, 64]), weight: zeros([1024, 256, 3, 3]), padding: 1 };
const limits = { maxElements: 2 ** 24, maxMacs: 2 ** 40, maxBodyBytes: 64 * 2 ** 20 };

/** The count of finished tasks by op and outcome, as /metrics reports it. */
async function taskCount(app: Parameters<typeof send>[0], op: string, outcome: string): Promise<number> {
  const text = (await send(app, { method: 'GET', url: '/metrics' })).body;
  const m = new RegExp(`convsvc_task_duration_seconds_count\\{op="${op}",outcome="${outcome}"\\} (\\d+)`).exec(text);
  return m ? Number(m[1]) : 0;
}

/** Posts a body over a raw socket and hangs up once the server has it; resolves when sent. */
async function postAndHangUp(port: number, body: object, hangUp: () => Promise<void>): Promise<void> {
  const payload = JSON.stringify(body);
  const req = httpRequest({
    host: '127.0.0.1',
    port,
    method: 'POST',
    path: '/v1/conv2d/forward',
    headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
  });
  req.on('error', () => {});
  req.end(payload);
  await hangUp();
  req.destroy();
}

describe('deadlines', () => {
  it('answers 504 when REQUEST_TIMEOUT_MS passes, ends the thread running the kernel, and the pool stays usable', async (t) => {
    const app = await build(t, { ...limits, requestTimeoutMs: 100, workers: 1 });
    const [before] = app.pool.threadIds;
    const res = await send(app, { method: 'POST', url: '/v1/conv2d/forward', payload: huge });
    assert.equal(res.statusCode, 504, res.body.slice(0, 300));
    assert.equal(res.json().type, '/problems/timeout');
    // The aborted kernel's thread was ended (not left to burn a core); the pool starts another.
    await until(() => app.pool.workers === 1 && !app.pool.threadIds.includes(before));
    assert.ok(!app.pool.threadIds.includes(before), 'the thread that ran the kernel is gone');
    assert.equal(app.pool.workers, 1);
    // The new thread's first task loads its GEMM; on a busy machine that alone can pass 100 ms,
    // so a few more tries are allowed, each of them a 504 at worst, never an error.
    let next = await send(app, { method: 'POST', url: '/v1/im2col', payload: smallBody });
    for (let tries = 1; next.statusCode === 504 && tries < 5; tries++)
      next = await send(app, { method: 'POST', url: '/v1/im2col', payload: smallBody });
    assert.equal(next.statusCode, 200, next.body);
  });
});

describe('admission', () => {
  it('answers 503 with Retry-After when every worker is busy and the queue is full', async (t) => {
    const app = await build(t, { ...limits, workers: 1, maxQueue: 0, requestTimeoutMs: 10_000 });
    const busy = send(app, { method: 'POST', url: '/v1/conv2d/forward', payload: huge });
    await until(() => app.pool.saturated);
    assert.ok(app.pool.saturated, 'the pool is busy');
    const refused = await send(app, { method: 'POST', url: '/v1/im2col', payload: smallBody });
    assert.equal(refused.statusCode, 503, refused.body);
    assert.equal(refused.json().type, '/problems/unavailable');
    assert.equal(refused.headers['retry-after'], '1');
    const ready = await send(app, { method: 'GET', url: '/health/ready' });
    assert.equal(ready.statusCode, 503);
    assert.ok([200, 504].includes((await busy).statusCode));
    await until(() => !app.pool.saturated);
    const after = await send(app, { method: 'POST', url: '/v1/im2col', payload: smallBody });
    assert.equal(after.statusCode, 200, after.body);
  });

  it('under a flood answers only 200 or 503 + Retry-After, admits workers + MAX_QUEUE at a time, and is ready again after', async (t) => {
    const app = await build(t, { workers: 1, maxQueue: 2 }, { workerEntry: faultyWorker });
    const slow = send(app, { method: 'POST', url: '/v1/im2col', payload: sleepingBody(1500) });
    await until(() => app.pool.reserved === 1 && app.pool.queueSize === 0);
    const flood = await Promise.all(
      Array.from({ length: 10 }, () => send(app, { method: 'POST', url: '/v1/im2col', payload: smallBody })),
    );
    const all = [await slow, ...flood];
    for (const res of all) {
      assert.ok([200, 503].includes(res.statusCode), `status ${res.statusCode}: ${res.body}`);
      if (res.statusCode === 503) {
        assert.equal(res.headers['retry-after'], '1');
        assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
      } else {
        assert.deepEqual(res.json().columns.data, res === all[0] ? [-333, 1500] : [1, 2]);
      }
    }
    const ok = all.filter((r) => r.statusCode === 200).length;
    assert.equal(ok, 3, 'the slow request and the two that found room in the queue');
    assert.equal(all.length - ok, 8);
    assert.equal(app.pool.reserved, 0, 'every slot was given back');
    const ready = await send(app, { method: 'GET', url: '/health/ready' });
    assert.equal(ready.statusCode, 200, ready.body);
  });

  it('refuses an op before reading its body: a saturated service answers 503 to a body it never parses', async (t) => {
    const app = await build(t, { workers: 1, maxQueue: 0 }, { workerEntry: faultyWorker });
    const slow = send(app, { method: 'POST', url: '/v1/im2col', payload: sleepingBody(800) });
    await until(() => app.pool.saturated);
    const refused = await send(app, {
      method: 'POST',
      url: '/v1/im2col',
      payload: '{"this is": not JSON',
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(refused.statusCode, 503, 'not 400: the body was never read');
    assert.equal((await slow).statusCode, 200);
  });

  it('answers 503 to new work once shutdown has begun', async (t) => {
    const app = await build(t);
    app.pool.stopAdmitting();
    const res = await send(app, { method: 'POST', url: '/v1/im2col', payload: smallBody });
    assert.equal(res.statusCode, 503);
    assert.ok(res.headers['retry-after']);
  });
});

describe('client disconnect', () => {
  it('cancels a queued task when its client hangs up, and gives its slot back', async (t) => {
    // inlineMaxMacs 0: the small conv2d below waits in the queue instead of running at once.
    const app = await build(t, { workers: 1, maxQueue: 4, inlineMaxMacs: 0 }, { workerEntry: faultyWorker });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as AddressInfo;
    const slow = send(app, { method: 'POST', url: '/v1/im2col', payload: sleepingBody(1500) });
    await until(() => app.pool.reserved === 1 && app.pool.queueSize === 0);
    const body = {
      input: { shape: [1, 1, 4, 4], data: new Array(16).fill(1) },
      weight: { shape: [1, 1, 3, 3], data: new Array(9).fill(1) },
    };
    await postAndHangUp(port, body, () => until(() => app.pool.queueSize === 1));
    await until(() => app.pool.queueSize === 0 && app.pool.reserved === 1);
    assert.equal(app.pool.queueSize, 0, 'the abandoned task left the queue');
    assert.equal(app.pool.reserved, 1, 'its slot is free while the slow task still runs');
    assert.equal(await taskCount(app, 'conv2d/forward', 'aborted'), 1);
    assert.equal(await taskCount(app, 'conv2d/forward', 'ok'), 0, 'it never ran');
    assert.equal((await slow).statusCode, 200);
  });

  it('ends the thread of a running task when its client hangs up', async (t) => {
    const app = await build(t, { ...limits, workers: 1, requestTimeoutMs: 60_000 });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as AddressInfo;
    await until(() => app.pool.running === 0);
    const [before] = app.pool.threadIds;
    await postAndHangUp(port, huge, () => until(() => app.pool.running === 1));
    await until(() => !app.pool.threadIds.includes(before) && app.pool.workers === 1);
    assert.ok(!app.pool.threadIds.includes(before), 'the kernel was stopped with its thread');
    await until(() => app.pool.reserved === 0);
    assert.equal(app.pool.reserved, 0);
    const next = await send(app, { method: 'POST', url: '/v1/im2col', payload: smallBody });
    assert.equal(next.statusCode, 200, next.body);
  });
});

describe('worker threads', () => {
  async function probeWorker(): Promise<Probe> {
    const pool = new KernelPool({
      workers: 1,
      maxQueue: 1,
      workerEntry: new URL('../fixtures/require-probe-worker.js', import.meta.url),
    });
    try {
      return (await pool.run(
        { op: 'im2col', geometry: {}, tensors: {} } as unknown as Task,
        new AbortController().signal,
      )) as unknown as Probe;
    } finally {
      await pool.close();
    }
  }

  it('load their module through import(), never require(esm), whose start-up race can abort the process', async () => {
    assert.equal((await probeWorker()).requireEsm, 'ERR_REQUIRE_ESM');
  });

  it('run at a lower priority than the main thread, which answers health probes', {
    skip: process.platform !== 'linux' && 'thread niceness is Linux-only',
  }, async () => {
    assert.equal((await probeWorker()).priority, getPriority() + WORKER_NICENESS);
  });
});

describe('tensors on their way to the workers', () => {
  it("are moved, not copied: the request's own buffers go to the worker", async (t) => {
    const g = conv2dGeometry({
      batch: 2,
      groups: 1,
      inChannels: 3,
      outChannels: 4,
      inH: 6,
      inW: 5,
      kH: 3,
      kW: 2,
      sH: 1,
      sW: 2,
      pH: 1,
      pW: 0,
      dH: 1,
      dW: 1,
    });
    const pool = new KernelPool({ workers: 1, maxQueue: 1 });
    t.after(() => pool.close());
    const tensors = { input: random('float32', inputLength(g), 1), gradOutput: random('float32', outputLength(g), 2) };
    const got = await pool.run(
      { op: 'conv2d/grad-parameters', geometry: g, dtype: 'float32', tensors, computeBias: false },
      new AbortController().signal,
    );
    assert.equal(got.gradWeight!.length, weightLength(g));
    assert.equal(tensors.input.length, 0, 'detached here: its buffer went to the worker');
  });
});

describe('tasks smaller than a round trip to a worker', () => {
  const g = conv2dGeometry({
    batch: 1,
    groups: 1,
    inChannels: 2,
    outChannels: 3,
    inH: 5,
    inW: 4,
    kH: 3,
    kW: 3,
    sH: 1,
    sW: 1,
    pH: 1,
    pW: 1,
    dH: 1,
    dW: 1,
  });
  const task = (): Task => ({
    op: 'conv2d/forward',
    geometry: g,
    dtype: 'float32',
    tensors: { input: random('float32', inputLength(g), 1), weight: random('float32', weightLength(g), 2) },
  });
  function pool(
    t: { after: (fn: () => Promise<void>) => void },
    inlineMaxMacs: number,
    onTaskDone?: (op: string, seconds: number, outcome: string) => void,
  ): KernelPool {
    const p = new KernelPool({ workers: 1, maxQueue: 1, inlineMaxMacs, onTaskDone });
    t.after(() => p.close());
    return p;
  }

  it('are conv tasks of at most inlineMaxMacs multiply-adds and as many elements of tensors', (t) => {
    assert.equal(pool(t, macs(g)).runsInline(task()), true);
    // 2x2 -> 1,001x1,001 at stride 1,000: 64 multiply-adds, but 16 M output elements to write.
    const strided = convTranspose2dGeometry({
      batch: 1,
      groups: 1,
      inChannels: 1,
      outChannels: 16,
      inH: 2,
      inW: 2,
      kH: 1,
      kW: 1,
      sH: 1000,
      sW: 1000,
      pH: 0,
      pW: 0,
      dH: 1,
      dW: 1,
      aH: 0,
      aW: 0,
    });
    assert.equal(macs(strided), 64);
    assert.equal(
      pool(t, 2 ** 18).runsInline({ ...task(), op: 'conv-transpose2d/forward', geometry: strided }),
      false,
      'a cheap task with a large output',
    );
    assert.equal(pool(t, macs(g) - 1).runsInline(task()), false);
    assert.equal(pool(t, 0).runsInline(task()), false, 'inlineMaxMacs 0: none');
    const columns = {
      op: 'im2col',
      geometry: {
        batch: 1,
        channels: 1,
        height: 2,
        width: 2,
        kH: 1,
        kW: 1,
        sH: 1,
        sW: 1,
        pH: 0,
        pW: 0,
        dH: 1,
        dW: 1,
        colH: 2,
        colW: 2,
      },
      dtype: 'float32',
      tensors: {},
    } as unknown as Task;
    assert.equal(pool(t, 2 ** 30).runsInline(columns), false, 'im2col and col2im always go to a worker');
  });

  it('run on the calling thread, exactly as a worker runs them, counted in the task metrics', async (t) => {
    const done: string[] = [];
    const here = pool(t, macs(g), (op, _s, outcome) => done.push(`${op} ${outcome}`));
    const inline = here.runInline(task());
    assert.deepEqual(done, ['conv2d/forward ok']);
    assert.equal(here.running, 0);
    const onWorker = await pool(t, 0).run(task(), new AbortController().signal);
    assert.deepEqual(inline.output, onWorker.output);
  });

  it('are refused once the shutdown grace period has run out', (t) => {
    const closing = pool(t, macs(g));
    closing.cancelAll();
    assert.throws(() => closing.runInline(task()), { slug: 'unavailable' });
  });

  it('fail as a 500 of their own when the kernel throws, counted as an error', (t) => {
    const done: string[] = [];
    const p = pool(t, macs(g), (_op, _s, outcome) => done.push(outcome));
    assert.throws(() => p.runInline({ ...task(), tensors: {} }), {
      message: 'the kernel failed running conv2d/forward',
    });
    assert.deepEqual(done, ['error']);
  });
});
