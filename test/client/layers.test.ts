import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  type ConvsvcClient,
  ConvsvcError,
  createConvsvcClient,
  loadLayerBody,
  tensor,
  toSafetensors,
} from '../../client/index.js';
import { type RunningServer, startServer } from '../../scripts/server-process.js';
import { parseSafetensors } from '../../src/models/safetensors.js';

/** The client's stored-layer helpers against a live instance run with API and admin keys. */
const entry = fileURLToPath(new URL('../../src/server.js', import.meta.url));
let server: RunningServer;
let admin: ConvsvcClient;
let user: ConvsvcClient;
before(async () => {
  server = await startServer({ WORKERS: '1', API_KEYS: 'user', ADMIN_API_KEYS: 'root' }, { entry });
  admin = createConvsvcClient({ baseUrl: server.url, apiKey: 'user', adminKey: 'root' });
  user = createConvsvcClient({ baseUrl: server.url, apiKey: 'user' });
});
after(async () => {
  server.child.kill('SIGTERM');
  await server.exited;
});

const weight = tensor(
  Float32Array.from({ length: 3 * 2 * 4 * 4 }, (_, i) => Math.sin(i)),
  [3, 2, 4, 4],
);
const bias = tensor(Float32Array.from([0.25, -0.75]), [2]);
const input = tensor(
  Float32Array.from({ length: 2 * 3 * 5 * 5 }, (_, i) => Math.cos(i)),
  [2, 3, 5, 5],
);
const parameters = { stride_h: 2, stride_w: 2, padding_h: 1, padding_w: 1 };

describe('toSafetensors and loadLayerBody', () => {
  it('write a file the service reads back tensor for tensor', () => {
    const file = toSafetensors({ weight, bias: tensor(Float64Array.from([1, 2]), [2]) });
    const read = parseSafetensors(file);
    assert.deepEqual(read.get('weight')!.shape, [3, 2, 4, 4]);
    assert.deepEqual(new Float32Array(read.get('weight')!.bytes.slice().buffer), weight.values);
    assert.equal(read.get('bias')!.dtype, 'F64');
    const body = loadLayerBody({ op: 'conv2d', parameters: { groups: 1 }, weight });
    assert.deepEqual(JSON.parse(body.parameters.config), {
      backend: 'convsvc',
      parameters: { op: { string_value: 'conv2d' }, groups: { string_value: '1' } },
    });
    assert.deepEqual(
      Buffer.from(body.parameters['file:1/model.safetensors'], 'base64'),
      Buffer.from(toSafetensors({ weight })),
    );
  });
});

describe('toSafetensors', () => {
  it('pads its header with spaces so the data starts on a multiple of 8, as the reference writer does', () => {
    for (const names of [['weight'], ['weight', 'bias'], ['a_much_longer_name', 'b']]) {
      const tensors = Object.fromEntries(names.map((n, i) => [n, tensor(new Float32Array(i + 1), [i + 1])]));
      const file = Buffer.from(toSafetensors(tensors));
      const headerLength = Number(file.readBigUInt64LE(0));
      assert.equal((8 + headerLength) % 8, 0, names.join());
      assert.match(file.subarray(8, 8 + headerLength).toString(), /^\{.*\} *$/);
    }
  });
});

describe('loadLayer, inferLayer, unloadLayer', () => {
  it('load with the admin key; the layer answers as the stateless op does on the same tensors', async () => {
    await assert.rejects(
      user.loadLayer('up', { op: 'conv_transpose2d', parameters, weight, bias }),
      (e: unknown) => e instanceof ConvsvcError && e.status === 403,
    );
    await admin.loadLayer('up', { op: 'conv_transpose2d', parameters, weight, bias });
    const stored = await user.inferLayer('up', { input });
    const stateless = await user.infer('conv_transpose2d', { input, weight, bias }, parameters);
    assert.deepEqual(stored.output.shape, [2, 2, 10, 10]);
    assert.deepEqual(stored.output.values, stateless.output.values);
    const json = await user.inferLayer('up', { input }, { binary: false });
    assert.deepEqual(json.output.values, stateless.output.values);
  });

  it('runs the backward passes with the stored weight', async () => {
    const gradOutput = tensor(
      Float32Array.from({ length: 2 * 2 * 10 * 10 }, (_, i) => (i % 3) - 1),
      [2, 2, 10, 10],
    );
    const stored = await user.inferLayer('up', { input, grad_output: gradOutput }, { pass: 'backward' });
    const stateless = await user.infer(
      'conv_transpose2d_backward',
      { input, grad_output: gradOutput, weight },
      parameters,
    );
    for (const name of ['grad_input', 'grad_weight', 'grad_bias'])
      assert.deepEqual(stored[name].values, stateless[name].values, name);
  });

  it('unload; the layer is then a 404', async () => {
    await admin.unloadLayer('up');
    await assert.rejects(
      user.inferLayer('up', { input }),
      (e: unknown) => e instanceof ConvsvcError && e.status === 404,
    );
    await assert.rejects(admin.unloadLayer('up'), (e: unknown) => e instanceof ConvsvcError && e.status === 404);
  });
});
