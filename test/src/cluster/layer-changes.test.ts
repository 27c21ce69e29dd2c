import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LayerChanges } from '../../../src/cluster/layer-changes.js';
import type { LayerQuestion, ToServer } from '../../../src/cluster/messages.js';

/** The primary's layer changes over fake processes: what each was sent, and the copies removed. */
function cluster(workers: string[]) {
  const sent = new Map<string, ToServer[]>(workers.map((w) => [w, []]));
  const removed: string[] = [];
  const live = [...workers];
  const changes = new LayerChanges<string>({
    live: () => live,
    send: (w, m) => sent.get(w)!.push(m),
    remove: (d) => removed.push(d),
  });
  const orders = (w: string) =>
    sent
      .get(w)!
      .filter((m) => m.convsvc === 'layer!')
      .map((m) => m as Extract<ToServer, { convsvc: 'layer!' }>);
  const answers = (w: string) => sent.get(w)!.filter((m) => m.convsvc === 'layer');
  /** Every process does its last order (`fail`: those that cannot, and why). */
  const obey = async (fail: Record<string, string> = {}) => {
    for (const w of live) {
      const order = orders(w).at(-1)!;
      changes.done(w, { convsvc: 'layer-done', id: order.id, ...(fail[w] ? { error: fail[w] } : {}) });
    }
    await new Promise((r) => setImmediate(r));
  };
  return { changes, sent, removed, live, orders, answers, obey };
}

const load = (id: number, name: string, directory: string, previous?: string): LayerQuestion => ({
  convsvc: 'layer?',
  id,
  action: 'load',
  name,
  directory,
  ...(previous === undefined ? {} : { previous }),
});

describe("the primary's changes of stored layers", () => {
  it('orders every process, the asker too, and takes the changes of one name one at a time in the order asked', async () => {
    const c = cluster(['a', 'b']);
    c.changes.ask('a', load(1, 'up', '/copies/up/a'));
    c.changes.ask('b', load(1, 'up', '/copies/up/b'));
    await new Promise((r) => setImmediate(r));
    for (const w of ['a', 'b'])
      assert.deepEqual(
        c.orders(w).map((o) => o.directory),
        ['/copies/up/a'],
      );
    assert.deepEqual(c.changes.set, [{ name: 'up', directory: '/copies/up/a' }]);

    await c.obey();
    assert.deepEqual(c.answers('a'), [{ convsvc: 'layer', id: 1 }]);
    assert.deepEqual(c.answers('b'), []);
    for (const w of ['a', 'b'])
      assert.deepEqual(
        c.orders(w).map((o) => o.directory),
        ['/copies/up/a', '/copies/up/b'],
      );
    assert.deepEqual(c.removed, []);

    await c.obey();
    assert.deepEqual(c.answers('b'), [{ convsvc: 'layer', id: 1 }]);
    assert.deepEqual(c.changes.set, [{ name: 'up', directory: '/copies/up/b' }]);
    assert.deepEqual(c.removed, ['/copies/up/a'], 'the copy replaced, once every process has the new one');
  });

  it('changes of different names do not wait for each other', async () => {
    const c = cluster(['a', 'b']);
    c.changes.ask('a', load(1, 'up', '/copies/up/1'));
    c.changes.ask('a', { convsvc: 'layer?', id: 2, action: 'unload', name: 'down' });
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(
      c.orders('b').map((o) => `${o.action} ${o.name}`),
      ['load up', 'unload down'],
    );
  });

  it('when a process fails the change, orders every process back to the version before and tells the asker why', async () => {
    const c = cluster(['a', 'b']);
    c.changes.ask('a', load(1, 'up', '/copies/up/1'));
    await new Promise((r) => setImmediate(r));
    await c.obey();
    c.changes.ask('a', load(2, 'up', '/copies/up/2', '/copies/up/elsewhere'));
    await new Promise((r) => setImmediate(r));
    await c.obey({ b: 'up holds 900 bytes; that is over MAX_STORED_BYTES (800)' });
    for (const w of ['a', 'b'])
      assert.deepEqual(
        c.orders(w).map((o) => o.directory),
        ['/copies/up/1', '/copies/up/2', '/copies/up/1'],
        'the primary knows the version before better than the asker',
      );
    assert.deepEqual(c.answers('a').length, 1);
    await c.obey();
    const answer = c.answers('a')[1] as { id: number; error?: string };
    assert.equal(answer.id, 2);
    assert.match(answer.error ?? '', /over MAX_STORED_BYTES \(800\); every server process serves up as before/);
    assert.deepEqual(c.changes.set, [{ name: 'up', directory: '/copies/up/1' }]);
    assert.deepEqual(c.removed, ['/copies/up/2'], 'the failed copy goes, the one serving stays');
  });

  it('goes back to where the asker says its version came from when the primary never saw the name, or unloads a new one', async () => {
    const c = cluster(['a', 'b']);
    c.changes.ask('b', load(1, 'repo', '/copies/repo/2', '/copies/repo/at-start-of-b'));
    await new Promise((r) => setImmediate(r));
    await c.obey({ a: 'out of memory' });
    await c.obey();
    assert.match((c.answers('b')[0] as { error?: string }).error ?? '', /serves repo as before/);
    c.changes.ask('a', load(2, 'fresh', '/copies/fresh/1'));
    await new Promise((r) => setImmediate(r));
    await c.obey({ b: 'out of memory' });
    await c.obey();
    for (const w of ['a', 'b'])
      assert.deepEqual(
        c.orders(w).map((o) => [o.action, o.name, o.directory]),
        [
          ['load', 'repo', '/copies/repo/2'],
          ['load', 'repo', '/copies/repo/at-start-of-b'],
          ['load', 'fresh', '/copies/fresh/1'],
          ['unload', 'fresh', undefined],
        ],
      );
    assert.deepEqual(c.changes.set, [
      { name: 'repo', directory: '/copies/repo/at-start-of-b' },
      { name: 'fresh', directory: null },
    ]);
    assert.match(
      (c.answers('a')[0] as { error?: string }).error ?? '',
      /out of memory; every server process serves fresh as before/,
    );
  });

  it('leaves out a process that dies during an order, and tells the asker when going back fails too', async () => {
    const c = cluster(['a', 'b']);
    c.changes.ask('a', load(1, 'up', '/copies/up/1', '/copies/up/0'));
    await new Promise((r) => setImmediate(r));
    c.changes.forget('b');
    c.live.splice(1, 1);
    c.changes.done('a', { convsvc: 'layer-done', id: c.orders('a').at(-1)!.id, error: 'disk full' });
    await new Promise((r) => setImmediate(r));
    await c.obey({ a: 'the repository has no up/config.json' });
    const answer = c.answers('a')[0] as { error?: string };
    assert.match(answer.error ?? '', /disk full; and going back to the version before failed too: .*no up\/config/);
    assert.deepEqual(c.orders('b').length, 1, 'the dead process was not ordered back');
  });
});
