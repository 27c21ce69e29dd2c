import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LayerError, type SharedTensor } from '../../../src/models/layer.js';
import { LayerConfigError } from '../../../src/models/layer-config.js';
import { LayerRegistry } from '../../../src/models/registry.js';

const sv = (v: string) => ({ string_value: v });
const CONFIG = JSON.stringify({
  backend: 'convsvc',
  parameters: { op: sv('conv_transpose2d'), stride_h: sv('2'), stride_w: sv('2') },
});

function shared(shape: number[], fill = 1): SharedTensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const values = new Float32Array(new SharedArrayBuffer(4 * n)).fill(fill);
  return { dtype: 'float32', shape, values };
}
const tensors = (entries: Record<string, SharedTensor>) => new Map(Object.entries(entries));

describe('LayerRegistry', () => {
  it('serves a layer built from its files, with the channels its weight implies', () => {
    const r = new LayerRegistry({ maxStoredBytes: 1 << 20, maxElements: 1 << 20 });
    const layer = r.install('up', CONFIG, tensors({ weight: shared([4, 2, 3, 3]), bias: shared([2]) }));
    assert.equal(r.get('up'), layer);
    assert.equal(layer.inChannels, 4);
    assert.equal(layer.outChannels, 2);
    assert.ok(layer.weight.buffer instanceof SharedArrayBuffer);
    assert.equal(layer.bytes, 4 * (72 + 2));
    assert.deepEqual(r.index(), [{ name: 'up', version: '1', state: 'READY', reason: '' }]);
    assert.equal(r.storedBytes, layer.bytes);
  });

  it('keeps the previous version serving when a reload fails, whatever the reason', () => {
    const r = new LayerRegistry({ maxStoredBytes: 4096, maxElements: 1 << 20 });
    const first = r.install('up', CONFIG, tensors({ weight: shared([4, 2, 3, 3]) }));
    const attempts: [string, Map<string, SharedTensor>, new (...a: never[]) => Error][] = [
      ['{', tensors({ weight: shared([4, 2, 3, 3]) }), LayerConfigError],
      [CONFIG, tensors({ bias: shared([2]) }), LayerError],
      [CONFIG, tensors({ weight: shared([4, 2, 3, 3]), bias: shared([3]) }), LayerError],
      [CONFIG, tensors({ weight: shared([4, 2, 3]) }), LayerError],
      [CONFIG, tensors({ weight: shared([4, 2, 3, 3]), extra: shared([1]) }), LayerError],
      [CONFIG, tensors({ weight: shared([64, 64, 3, 3]) }), LayerError],
    ];
    for (const [config, files, kind] of attempts) {
      assert.throws(() => r.install('up', config, files), kind);
      r.failed('up', 'it failed');
      assert.equal(r.get('up'), first);
      assert.equal(r.index()[0].state, 'READY');
    }
  });

  it('shows a layer that never loaded as UNAVAILABLE with its reason, beside the others', () => {
    const r = new LayerRegistry({ maxStoredBytes: 1 << 20, maxElements: 1 << 20 });
    r.failed('broken', 'config.json: no backend');
    r.install('up', CONFIG, tensors({ weight: shared([4, 2, 3, 3]) }));
    assert.deepEqual(r.index(), [
      { name: 'broken', version: '1', state: 'UNAVAILABLE', reason: 'config.json: no backend' },
      { name: 'up', version: '1', state: 'READY', reason: '' },
    ]);
    assert.deepEqual(
      r.index(true).map((e) => e.name),
      ['up'],
    );
    assert.equal(r.get('broken'), undefined);
  });

  it('counts every layer against MAX_STORED_BYTES, a reload only for its growth', () => {
    const r = new LayerRegistry({ maxStoredBytes: 2 * 288, maxElements: 1 << 20 });
    r.install('a', CONFIG, tensors({ weight: shared([4, 2, 3, 3]) }));
    r.install('b', CONFIG, tensors({ weight: shared([4, 2, 3, 3]) }));
    assert.throws(
      () => r.install('c', CONFIG, tensors({ weight: shared([4, 2, 3, 3]) })),
      (e: unknown) => e instanceof LayerError && e.status === 413 && /MAX_STORED_BYTES/.test(e.message),
    );
    r.install('b', CONFIG, tensors({ weight: shared([4, 2, 3, 3], 2) }));
    assert.equal(r.get('b')!.weight[0], 2);
  });

  it('refuses a weight over MAX_ELEMENTS and a configuration naming another model', () => {
    const r = new LayerRegistry({ maxStoredBytes: 1 << 20, maxElements: 50 });
    assert.throws(() => r.install('up', CONFIG, tensors({ weight: shared([4, 2, 3, 3]) })), /MAX_ELEMENTS/);
    const named = JSON.stringify({ ...JSON.parse(CONFIG), name: 'other' });
    assert.throws(() => r.install('up', named, tensors({ weight: shared([1, 1, 1, 1]) })), /names model "other"/);
  });

  it('unloads: the layer stops serving, the index says so, and a request holding it still has its tensors', () => {
    const r = new LayerRegistry({ maxStoredBytes: 1 << 20, maxElements: 1 << 20 });
    const held = r.install('up', CONFIG, tensors({ weight: shared([4, 2, 3, 3], 7) }));
    assert.equal(r.unload('up'), true);
    assert.equal(r.get('up'), undefined);
    assert.deepEqual(r.index(), [{ name: 'up', version: '1', state: 'UNAVAILABLE', reason: 'unloaded' }]);
    assert.equal(r.storedBytes, 0);
    assert.equal(held.weight[0], 7);
    assert.equal(r.unload('up'), false);
  });
});
