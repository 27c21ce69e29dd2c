import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Counter, Histogram, Registry } from 'prom-client';
import { Tally } from '../../../src/plugins/metrics.js';

const BOUNDS = [0.001, 0.01, 0.1, 1];
const LABEL_SETS = [
  { method: 'POST', route: '/v1/im2col', status: '200' },
  { method: 'POST', route: '/v1/im2col', status: '400' },
  { method: 'GET', route: 'unmatched', status: '404' },
];

/** A registry with the pair of metrics a tally serves; `tallies` set, they are fed through it. */
function pair(tallies?: { counted: Tally[]; observed: Tally[] }) {
  const registry = new Registry();
  const counter: Counter<string> = new Counter({
    name: 'requests_total', help: 'h', labelNames: ['method', 'route', 'status'], registers: [registry],
    collect: tallies && (() => tallies.counted.forEach((t) => t.flushCount(counter))),
  });
  const histogram: Histogram<string> = new Histogram({
    name: 'latency_seconds', help: 'h', labelNames: ['method', 'route', 'status'], buckets: BOUNDS, registers: [registry],
    collect: tallies && (() => tallies.observed.forEach((t) => t.flushHistogram(histogram))),
  });
  return { registry, counter, histogram };
}

describe('Tally', () => {
  it('leaves the registry exactly as observing one by one does, read at any point (fast-check)', async () => {
    const step = fc.oneof(
      fc.record({ set: fc.nat({ max: LABEL_SETS.length - 1 }), seconds: fc.option(fc.oneof(fc.double({ min: 0, max: 3, noNaN: true }), fc.constantFrom(0, 0.001, 1, 5)), { nil: undefined }) }),
      fc.constant('read' as const),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(step, { maxLength: 60 }), async (steps) => {
        const direct = pair();
        const made: (Tally | undefined)[] = [];
        const order = { counted: [] as Tally[], observed: [] as Tally[] };
        const tallied = pair(order);
        for (const s of [...steps, 'read' as const]) {
          if (s === 'read') {
            assert.equal(await tallied.registry.metrics(), await direct.registry.metrics());
            continue;
          }
          const labels = LABEL_SETS[s.set];
          direct.counter.inc(labels);
          if (s.seconds !== undefined) direct.histogram.observe(labels, s.seconds);
          let tally = made[s.set];
          if (tally === undefined) {
            tally = made[s.set] = new Tally({ ...labels }, BOUNDS, order.observed);
            order.counted.push(tally);
          }
          tally.count++;
          if (s.seconds !== undefined) tally.observe(s.seconds);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('refuses a value that is not a number, as prom-client does', () => {
    assert.throws(() => new Tally({}, BOUNDS).observe(NaN), TypeError);
  });
});
