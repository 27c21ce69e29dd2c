import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ProblemError } from '../../src/problems.js';
import { Uploads } from '../../src/uploads.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('Uploads', () => {
  it('cuts off a body that keeps less than the minimum rate over the window, with a 408 that closes the connection', async () => {
    const uploads = new Uploads({ minBytesPerSecond: 1000, windowMs: 300 });
    let cut: ProblemError | null = null;
    const upload = uploads.start(performance.now() + 60_000, (err) => (cut = err));
    upload.progress(10);
    await sleep(700);
    assert.ok(cut, 'cut off');
    const err = cut as ProblemError;
    assert.equal(err.status, 408);
    assert.match(err.detail, /below the minimum of 1000/);
    assert.equal(err.headers.connection, 'close');
    assert.equal(uploads.size, 0);
  });

  it('leaves alone a body that keeps the pace, until its deadline', async () => {
    const uploads = new Uploads({ minBytesPerSecond: 1000, windowMs: 200 });
    let cut: ProblemError | null = null;
    const started = performance.now();
    const upload = uploads.start(started + 900, (err) => (cut = err));
    let sent = 0;
    while (cut === null && performance.now() - started < 3000) {
      sent += 100;
      upload.progress(sent);
      await sleep(20);
    }
    assert.ok(cut, 'cut off at the deadline');
    assert.match((cut as ProblemError).detail, /deadline/);
    assert.ok(performance.now() - started >= 850, 'not before it');
  });

  it('forgets a body once it has ended, and aborts every body still arriving at once on abortAll', async () => {
    const uploads = new Uploads({ minBytesPerSecond: 1000, windowMs: 100 });
    const cuts: string[] = [];
    uploads.start(performance.now() + 60_000, () => cuts.push('ended one')).end();
    uploads.start(performance.now() + 60_000, (err) => cuts.push(err.detail));
    assert.equal(uploads.size, 1);
    uploads.abortAll({ detail: 'shutting down' } as ProblemError);
    assert.deepEqual(cuts, ['shutting down']);
    assert.equal(uploads.size, 0);
    await sleep(300);
    assert.deepEqual(cuts, ['shutting down'], 'nothing more');
  });

  it('settles as soon as no body is arriving, or after its time', async () => {
    const uploads = new Uploads({ minBytesPerSecond: 0, windowMs: 1000 });
    const upload = uploads.start(performance.now() + 60_000, () => {});
    setTimeout(() => upload.end(), 100);
    const started = performance.now();
    await uploads.settled(5000);
    assert.ok(performance.now() - started < 1000);
    uploads.start(performance.now() + 60_000, () => {});
    const again = performance.now();
    await uploads.settled(200);
    assert.ok(performance.now() - again >= 190);
  });
});
