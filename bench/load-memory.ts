/**
 * `npm run bench:load-memory`: what loading a stored layer holds at its peak, per byte of its
 * body: the figures behind src/models/layers.ts's charges. A fresh service (one process, one
 * kernel thread, a budget too large to refuse it) loads a small layer first (its load thread is
 * then running), then a 64 MiB layer from a body whose base64 is plain, or escaped (every "/"
 * written "\/", which JSON allows and the load's splitter leaves to the whole parse); two rounds
 * of each. The peak RSS over the RSS before the load, divided by the body's bytes, is to be
 * compared with what the load is charged per byte.
 */
import { loadLayerBody } from '../client/index.js';
import { FILE_PARAMETER } from '../src/models/layer-files.js';
import { loadHeldBytes } from '../src/models/layers.js';
import { memory, startService, stop } from './services.js';

const MiB = 2 ** 20;

const post = (url: string, body: Buffer): Promise<number> =>
  fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json' } }).then(async (r) => {
    await r.arrayBuffer();
    return r.status;
  });

const layer = (elements: number, shape: number[]) => {
  const values = new Float32Array(elements);
  for (let i = 0; i < elements; i++) values[i] = Math.sin(i);
  return JSON.stringify(loadLayerBody({ op: 'conv_transpose2d', weight: { shape, values } }));
};
const small = Buffer.from(layer(144, [4, 4, 3, 3]));
const plain = layer(1024 * 1024 * 16, [1024, 1024, 4, 4]);
const key = `"${FILE_PARAMETER}":"`;
const at = plain.indexOf(key) + key.length;
const end = plain.indexOf('"', at);
const escaped = plain.slice(0, at) + plain.slice(at, end).replaceAll('/', '\\/') + plain.slice(end);

for (let round = 0; round < 2; round++)
  for (const [kind, text] of [
    ['plain', plain],
    ['escaped', escaped],
  ] as const) {
    const body = Buffer.from(text);
    const s = await startService({
      HTTP_PROCESSES: '1',
      WORKERS: '1',
      MEMORY_BUDGET_BYTES: String(2 ** 32),
      MAX_STORED_BYTES: String(512 * MiB),
    });
    const warm = await post(`${s.url}/v2/repository/models/warm/load`, small);
    await new Promise((r) => setTimeout(r, 500));
    const before = memory(s).rss * MiB;
    const status = await post(`${s.url}/v2/repository/models/big/load`, body);
    const peak = memory(s).peak * MiB;
    await stop(s);
    const held = (peak - before) / body.length;
    const charged = loadHeldBytes(body.length, kind === 'escaped') / body.length;
    console.log(
      `${kind.padEnd(7)} body ${(body.length / MiB).toFixed(1)} MiB: statuses ${warm}, ${status}; peak ${((peak - before) / MiB).toFixed(0)} MiB over the RSS before = ${held.toFixed(2)} x its body; charged ${charged.toFixed(2)} x`,
    );
  }
