import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Deliveries, type Recipient } from '../../src/deliveries.js';
import { until } from '../helpers/faults.js';

/** A recipient whose answer drains as the test says, and which records its cut. */
class Fake implements Recipient {
  why: string | null = null;
  constructor(public left: number | null) {}
  pending(): number | null {
    return this.left;
  }
  cut(why: string): void {
    this.why = why;
  }
}

const rules = { minBytesPerSecond: 1000, windowMs: 400, deadlineMs: 1500 };

describe('answers being taken', () => {
  it('are cut past the deadline, whatever their pace, and counted', async () => {
    const deliveries = new Deliveries(rules);
    const fake = new Fake(1_000_000);
    const drain = setInterval(() => (fake.left = Math.max(1, (fake.left ?? 0) - 500)), 100);
    const started = performance.now();
    deliveries.start(fake);
    await until(() => fake.why !== null, 5000);
    clearInterval(drain);
    assert.match(fake.why ?? '', /within the request's deadline \(REQUEST_TIMEOUT_MS\)/);
    assert.ok(performance.now() - started >= rules.deadlineMs - 5);
    assert.equal(deliveries.size, 0);
    assert.equal(deliveries.cut, 1);
  });

  it('are cut when taken slower than the minimum over a window', async () => {
    const deliveries = new Deliveries({ ...rules, deadlineMs: 60_000 });
    const fake = new Fake(1_000_000);
    // 100 bytes a second, where 1,000 are the minimum.
    const drain = setInterval(() => (fake.left! -= 10), 100);
    deliveries.start(fake);
    await until(() => fake.why !== null, 5000);
    clearInterval(drain);
    assert.match(fake.why ?? '', /took its answer at \d+ bytes\/s over 400 ms, below the minimum of 1000/);
    assert.equal(deliveries.cut, 1);
  });

  it('are left alone while taken at the minimum pace or faster, and once ended', async () => {
    const deliveries = new Deliveries({ ...rules, deadlineMs: 60_000 });
    const fake = new Fake(1_000_000);
    const drain = setInterval(() => (fake.left! -= 500), 100);
    const delivery = deliveries.start(fake);
    await new Promise((r) => setTimeout(r, 1500));
    clearInterval(drain);
    assert.equal(fake.why, null);
    assert.equal(deliveries.size, 1);
    delivery.end();
    assert.equal(deliveries.size, 0);
    assert.equal(deliveries.cut, 0);
  });

  it('where the transport shows no progress, or holds nothing more, answer only to the deadline', async () => {
    const deliveries = new Deliveries({ ...rules, deadlineMs: 1200 });
    const unknown = new Fake(null);
    const handedOn = new Fake(0);
    deliveries.start(unknown);
    deliveries.start(handedOn);
    await new Promise((r) => setTimeout(r, 900));
    assert.equal(unknown.why, null, 'no pace is asked of what cannot be seen');
    assert.equal(handedOn.why, null);
    await until(() => unknown.why !== null && handedOn.why !== null, 5000);
    assert.match(unknown.why ?? '', /deadline/);
    assert.equal(deliveries.cut, 2);
  });
});
