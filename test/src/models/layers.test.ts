import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Layers } from '../../../src/models/layers.js';
import { layerConfig, loadBody, safetensors } from '../../helpers/layers.js';

const UP = { op: 'conv_transpose2d' as const, params: { stride_h: 2, stride_w: 2 } };
const body = (scale: number) =>
  new Uint8Array(
    Buffer.from(
      JSON.stringify(
        loadBody(
          layerConfig(UP),
          safetensors({
            weight: { shape: [3, 2, 3, 3], values: Float32Array.from({ length: 54 }, (_, i) => scale * i) },
          }),
        ),
      ),
    ),
  );
const timing = { start: 0n, inferStart: 1n, inferEnd: 2n, end: 3n };

describe("a server process's stored layers, as the other processes' copies reach it", () => {
  it('says where the version it replaced came from, and loads a copy it already serves at no cost', async (t) => {
    const saveDir = mkdtempSync(join(tmpdir(), 'convsvc-layers-test-'));
    const layers = new Layers({ maxStoredBytes: 1 << 20, maxElements: 1 << 20, saveDir });
    t.after(() => {
      rmSync(saveDir, { recursive: true, force: true });
      return layers.close();
    });
    const first = await layers.load('up', body(1));
    assert.ok(first.saved?.startsWith(join(saveDir, 'up')));
    assert.equal(first.previous, undefined);
    const second = await layers.load('up', body(2));
    assert.equal(second.previous, first.saved);

    // The primary orders this process to serve the copy it saved itself: nothing changes.
    layers.stats.succeeded('up', 1, timing);
    const own = await layers.loadDirectory('up', second.saved!);
    assert.equal(own.layer, second.layer);
    assert.equal(layers.stats.of('up').execution_count, 1, 'the statistics of the version serving stay');

    // ...or the copy of another version: it is loaded, and its statistics start over.
    const back = await layers.loadDirectory('up', first.saved!);
    assert.notEqual(back.layer, second.layer);
    assert.equal(back.previous, second.saved);
    assert.deepEqual(Float32Array.from(layers.registry.get('up')!.weight.slice(0, 3)), Float32Array.from([0, 1, 2]));
    assert.equal(layers.stats.of('up').execution_count, 0);
    assert.equal((await layers.loadDirectory('up', first.saved!)).layer, back.layer);

    assert.deepEqual(await layers.unload('up'), { previous: first.saved });
    assert.equal(await layers.unload('up'), null);
    assert.notEqual((await layers.loadDirectory('up', first.saved!)).layer, back.layer, 'unloaded: loaded again');
  });
});
