import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { describe, it } from 'node:test';
import { Counter, Registry } from 'prom-client';
import { ClusterLink, STATS_NAMES_PER_QUESTION } from '../../../src/cluster/link.js';

/** The IPC channel of a forked process, with what the process sent kept for the test. */
class FakeChannel extends EventEmitter {
  readonly sent: Record<string, unknown>[] = [];
  send(message: Record<string, unknown>): boolean {
    this.sent.push(message);
    return true;
  }
}

describe("a server process's link to the primary", () => {
  it('is not ready until the primary says every process is up, nor while one is down or the service drains', () => {
    const channel = new FakeChannel();
    const link = new ClusterLink(channel);
    assert.match(link.notReady ?? '', /not yet said/);
    channel.emit('message', { convsvc: 'state', up: 2, of: 2, draining: false });
    assert.equal(link.notReady, null);
    channel.emit('message', { convsvc: 'state', up: 1, of: 2, draining: false });
    assert.equal(link.notReady, '1 of 2 server processes is down (restarting)');
    channel.emit('message', { convsvc: 'state', up: 2, of: 2, draining: true });
    assert.equal(link.notReady, 'the service is shutting down');
    channel.emit('disconnect');
    assert.equal(link.notReady, 'the primary process is gone');
  });

  it("asks the primary to count a request against the service's rate limit, and takes its answer", async () => {
    const channel = new FakeChannel();
    const link = new ClusterLink(channel);
    const counted = link.countRate('ip:127.0.0.1', 60_000, 10);
    const question = channel.sent[0]!;
    assert.deepEqual(
      { ...question, id: 0 },
      { convsvc: 'rate?', id: 0, key: 'ip:127.0.0.1', windowMs: 60_000, max: 10 },
    );
    channel.emit('message', { convsvc: 'rate', id: 999, current: 1, ttl: 1 }); // someone else's
    channel.emit('message', { convsvc: 'rate', id: question.id, current: 3, ttl: 59_000 });
    assert.deepEqual(await counted, { current: 3, ttl: 59_000 });
  });

  it('fails what it was waiting for when the primary is gone', async () => {
    const channel = new FakeChannel();
    const link = new ClusterLink(channel);
    const metrics = link.serviceMetrics();
    channel.emit('disconnect');
    await assert.rejects(metrics, /primary process is gone/);
    await assert.rejects(link.countRate('k', 1000, 1), /primary process is gone/);
  });

  it("shares its own registry's metrics when the primary asks, and passes on the primary's sum", async () => {
    const channel = new FakeChannel();
    const link = new ClusterLink(channel);
    const registry = new Registry();
    new Counter({ name: 'shared_total', help: 'h', registers: [registry] }).inc(5);
    link.shareMetrics(registry);
    channel.emit('message', { convsvc: 'share?', id: 7 });
    await new Promise((r) => setImmediate(r));
    const share = channel.sent.find((m) => m.convsvc === 'share') as {
      id: number;
      metrics: { name: string; values: { value: number }[] }[];
    };
    assert.equal(share.id, 7);
    assert.deepEqual(
      share.metrics.map((m) => [m.name, m.values[0]!.value]),
      [['shared_total', 5]],
    );

    const text = link.serviceMetrics();
    const asked = channel.sent.at(-1)!;
    assert.equal(asked.convsvc, 'metrics?');
    channel.emit('message', { convsvc: 'metrics', id: asked.id, text: 'shared_total 10\n' });
    assert.equal(await text, 'shared_total 10\n');
  });

  it('asks the primary to have every process load a layer from its saved copy, saying where its version before came from, and passes on their failures', async () => {
    const channel = new FakeChannel();
    const link = new ClusterLink(channel);
    const published = link.publishLayer('load', 'up', '/tmp/copies/up/1', '/tmp/copies/up/0');
    const question = channel.sent[0]!;
    assert.deepEqual(
      { ...question, id: 0 },
      {
        convsvc: 'layer?',
        id: 0,
        action: 'load',
        name: 'up',
        directory: '/tmp/copies/up/1',
        previous: '/tmp/copies/up/0',
      },
    );
    channel.emit('message', { convsvc: 'layer', id: question.id });
    await published;
    const failed = link.publishLayer('unload', 'up');
    channel.emit('message', { convsvc: 'layer', id: channel.sent[1]!.id, error: 'out of memory' });
    await assert.rejects(failed, /not every server process could unload up: out of memory/);
  });

  it("obeys the primary's orders, those that came before it could, and says when each is done or why not", async () => {
    const channel = new FakeChannel();
    const link = new ClusterLink(channel);
    channel.emit('message', { convsvc: 'layer!', id: 1, action: 'load', name: 'early', directory: '/d' });
    const obeyed: string[] = [];
    link.onLayerOrder(async (order) => {
      obeyed.push(`${order.action} ${order.name}`);
      if (order.name === 'bad') throw new Error('config.json: no backend');
    });
    channel.emit('message', { convsvc: 'layer!', id: 2, action: 'unload', name: 'bad' });
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(obeyed, ['load early', 'unload bad']);
    assert.deepEqual(channel.sent, [
      { convsvc: 'layer-done', id: 1 },
      { convsvc: 'layer-done', id: 2, error: 'config.json: no backend' },
    ]);
  });

  it('asks which layers the others serve, for a process that starts', async () => {
    const channel = new FakeChannel();
    const link = new ClusterLink(channel);
    const set = link.layerSet();
    const layers = [
      { name: 'up', directory: '/d/up/1' },
      { name: 'gone', directory: null },
    ];
    channel.emit('message', { convsvc: 'layers', id: channel.sent[0]!.id, layers });
    assert.deepEqual(await set, layers);
  });

  it("shares its own statistics of the models the primary names, and passes on every process's, asking in parts", async () => {
    const channel = new FakeChannel();
    const link = new ClusterLink(channel);
    link.shareStats((names) => names.map((name) => ({ name }) as never));
    channel.emit('message', { convsvc: 'stat-share?', id: 4, names: ['up', 'down'] });
    assert.deepEqual(channel.sent.pop(), { convsvc: 'stat-share', id: 4, stats: [{ name: 'up' }, { name: 'down' }] });
    // A primary asking for more than one question carries is answered for the first part only.
    channel.emit('message', { convsvc: 'stat-share?', id: 5, names: Array.from({ length: 1000 }, (_, i) => `m${i}`) });
    assert.equal((channel.sent.pop() as { stats: unknown[] }).stats.length, STATS_NAMES_PER_QUESTION);

    const names = Array.from({ length: STATS_NAMES_PER_QUESTION + 1 }, (_, i) => `m${i}`);
    const all = link.serviceStats(names);
    const first = channel.sent.pop() as { convsvc: string; id: number; names: string[] };
    assert.equal(first.convsvc, 'stats?');
    assert.deepEqual(first.names, names.slice(0, STATS_NAMES_PER_QUESTION));
    channel.emit('message', { convsvc: 'stats', id: first.id, shares: [[{ name: 'm0' }], [{ name: 'm0' }]] });
    await new Promise((r) => setImmediate(r));
    const second = channel.sent.pop() as { id: number; names: string[] };
    assert.deepEqual(second.names, [names.at(-1)]);
    channel.emit('message', { convsvc: 'stats', id: second.id, shares: [[{ name: names.at(-1) }]] });
    assert.deepEqual(await all, [{ name: 'm0' }, { name: 'm0' }, { name: names.at(-1) }]);
  });
});
