import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ScrapeBatches } from '../../src/scrape-batches.js';

/** A gathering that counts its calls and settles when told, with the values of its call. */
function gatherer() {
  const begun: { at: number; settle: () => void }[] = [];
  const gather = () =>
    new Promise<string>((resolve) => {
      const n = begun.length + 1;
      begun.push({ at: performance.now(), settle: () => resolve(`values ${n}`) });
    });
  return { gather, begun };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('ScrapeBatches', () => {
  it('answers scrapes that arrive together with one gathering', async () => {
    const { gather, begun } = gatherer();
    const batches = new ScrapeBatches(gather, 100);
    const scrapes = Array.from({ length: 50 }, () => batches.scrape());
    await tick();
    assert.equal(begun.length, 1);
    begun[0].settle();
    assert.deepEqual(new Set(await Promise.all(scrapes)), new Set(['values 1']));
  });

  it('gives a scrape that comes during a gathering the next one, begun a spacing after the last', async () => {
    const { gather, begun } = gatherer();
    const batches = new ScrapeBatches(gather, 100);
    const first = batches.scrape();
    await tick();
    const later = [batches.scrape(), batches.scrape()];
    begun[0].settle();
    assert.equal(await first, 'values 1');
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(begun.length, 1, 'not begun before the spacing');
    while (begun.length < 2) await new Promise((r) => setTimeout(r, 10));
    assert.ok(begun[1].at - begun[0].at >= 99, `${begun[1].at - begun[0].at} ms apart`);
    begun[1].settle();
    assert.deepEqual(await Promise.all(later), ['values 2', 'values 2']);
  });

  it('begins at once for a scrape after a quiet spacing', async () => {
    const { gather, begun } = gatherer();
    const batches = new ScrapeBatches(gather, 20);
    const first = batches.scrape();
    await tick();
    begun[0].settle();
    await first;
    await new Promise((r) => setTimeout(r, 30));
    const second = batches.scrape();
    await tick();
    assert.equal(begun.length, 2);
    begun[1].settle();
    assert.equal(await second, 'values 2');
  });
});
