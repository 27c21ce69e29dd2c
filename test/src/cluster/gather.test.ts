import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Gatherer } from '../../../src/cluster/gather.js';

describe("the primary's gathering of every server process's answer", () => {
  it('asks each process with one id and settles once every one answered, ignoring answers it did not ask for', async () => {
    const gatherer = new Gatherer<string, number>(10_000);
    const asked: [string, number][] = [];
    const got = gatherer.gather(['a', 'b'], (w, id) => asked.push([w, id]));
    const id = asked[0]![1];
    assert.deepEqual(asked, [
      ['a', id],
      ['b', id],
    ]);
    gatherer.answer('a', id, 1);
    gatherer.answer('a', id, 100); // repeated
    gatherer.answer('c', id, 100); // not asked
    gatherer.answer('b', id + 1, 100); // another gathering's
    gatherer.answer('b', id, 2);
    assert.deepEqual(await got, [1, 2]);
  });

  it('leaves out a process that died or did not answer in time, and settles at once when there is nobody to ask', async () => {
    const gatherer = new Gatherer<string, number>(50);
    const died = gatherer.gather(['a', 'b'], () => {});
    gatherer.forget('a');
    const late = gatherer.gather(['b'], () => {});
    gatherer.forget('b');
    assert.deepEqual(await died, []);
    assert.deepEqual(await late, []);
    assert.deepEqual(await gatherer.gather([], () => {}), []);
    let id = 0;
    const slow = gatherer.gather(['a', 'b'], (_w, i) => {
      id = i;
    });
    gatherer.answer('a', id, 7);
    assert.deepEqual(await slow, [7]);
  });
});
