import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { build } from '../helpers/build.js';
import { exitingBody, faultyWorker, smallBody, throwingBody, until } from '../helpers/faults.js';
import { send } from '../helpers/http.js';

/** Worker faults, injected through the test-only worker module of test/fixtures. */

const post = (payload: object, id: string) => ({
  method: 'POST' as const,
  url: '/v1/im2col',
  payload,
  headers: { 'x-request-id': id },
});

/** A 500 problem document naming the request, with nothing of the failure's insides. */
function assertInternalProblem(res: Awaited<ReturnType<typeof send>>, id: string): void {
  assert.equal(res.statusCode, 500, res.body);
  assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
  const doc = res.json();
  assert.equal(doc.type, '/problems/internal');
  assert.equal(doc.requestId, id);
  assert.equal(res.headers['x-request-id'], id);
  assert.match(doc.detail, new RegExp(id));
  assert.doesNotMatch(res.body, /injected|internal\/path|kernel\.ts|\bat \w|exited|code: 70/);
}

describe('worker faults', () => {
  it('a kernel that throws gives that request a 500 with its id; the next requests succeed', async (t) => {
    const app = await build(t, { workers: 1 }, { workerEntry: faultyWorker });
    assertInternalProblem(await send(app, post(throwingBody, 'fault-throw-1')), 'fault-throw-1');
    for (let i = 0; i < 3; i++) {
      const next = await send(app, post(smallBody, `after-throw-${i}`));
      assert.equal(next.statusCode, 200, next.body);
      assert.deepEqual(next.json().columns.data, [1, 2]);
    }
  });

  it('a worker that exits mid-task gives that request a 500 with its id, is replaced, and the next requests succeed', async (t) => {
    const app = await build(t, { workers: 2 }, { workerEntry: faultyWorker });
    await until(() => app.pool.workers === 2);
    const before = app.pool.threadIds;
    assertInternalProblem(await send(app, post(exitingBody, 'fault-exit-1')), 'fault-exit-1');
    await until(() => app.pool.workers === 2 && app.pool.threadIds.some((id) => !before.includes(id)));
    assert.equal(app.pool.workers, 2, 'the pool is back to full strength');
    assert.ok(
      app.pool.threadIds.some((id) => !before.includes(id)),
      "a new thread took the dead one's place",
    );
    const next = await Promise.all(Array.from({ length: 6 }, (_, i) => send(app, post(smallBody, `after-exit-${i}`))));
    for (const res of next) assert.equal(res.statusCode, 200, res.body);
    assert.equal((await send(app, { method: 'GET', url: '/health/ready' })).statusCode, 200);
  });

  it('survives repeated crashes: every crash is one 500, every other request a 200', async (t) => {
    const app = await build(t, { workers: 1 }, { workerEntry: faultyWorker });
    const bodies = [exitingBody, smallBody, throwingBody, smallBody, exitingBody, exitingBody, smallBody];
    for (const [i, body] of bodies.entries()) {
      const res = await send(app, post(body, `mixed-${i}`));
      assert.equal(res.statusCode, body === smallBody ? 200 : 500, `request ${i}: ${res.body}`);
    }
  });
});
