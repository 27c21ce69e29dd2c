import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KernelSlots } from '../../../src/cluster/kernel-slots.js';

describe('the kernel slots of a host', () => {
  it('grants up to its capacity at once, then in the order asked as slots come back', () => {
    const slots = new KernelSlots(2);
    const granted: string[] = [];
    const ask = (owner: number, id: number) => slots.ask(owner, id, () => granted.push(`${owner}:${id}`));
    ask(1, 1);
    ask(2, 1);
    ask(2, 2);
    ask(1, 2);
    assert.deepEqual(granted, ['1:1', '2:1']);
    assert.equal(slots.waiting, 2);
    slots.free(1, 1);
    assert.deepEqual(granted, ['1:1', '2:1', '2:2']);
    slots.free(2, 1);
    assert.deepEqual(granted, ['1:1', '2:1', '2:2', '1:2']);
    assert.equal(slots.inUse, 2);
  });

  it('drops an ask withdrawn while it waits, and ignores a slot given back twice', () => {
    const slots = new KernelSlots(1);
    const granted: number[] = [];
    slots.ask(1, 1, () => granted.push(1));
    slots.ask(1, 2, () => granted.push(2));
    slots.free(1, 2);
    slots.free(1, 1);
    slots.free(1, 1);
    assert.deepEqual(granted, [1]);
    assert.equal(slots.inUse, 0);
    assert.equal(slots.waiting, 0);
  });

  it('takes back every slot of a process that is gone, and passes them to those waiting', () => {
    const slots = new KernelSlots(2);
    const granted: string[] = [];
    const ask = (owner: number, id: number) => slots.ask(owner, id, () => granted.push(`${owner}:${id}`));
    ask(1, 1);
    ask(1, 2);
    ask(1, 3);
    ask(2, 1);
    ask(2, 2);
    slots.forget(1);
    assert.deepEqual(granted, ['1:1', '1:2', '2:1', '2:2']);
    assert.equal(slots.inUse, 2);
    assert.equal(slots.waiting, 0);
  });
});
