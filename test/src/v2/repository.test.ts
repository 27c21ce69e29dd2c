import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { LAYER_COPIES_ENV, makeLayerCopiesDir } from '../../../src/cluster/layer-copies.js';
import { ClusterLink } from '../../../src/cluster/link.js';
import { build } from '../../helpers/build.js';
import { send } from '../../helpers/http.js';
import { layerConfig, loadBody, loadLayer, safetensors } from '../../helpers/layers.js';

const weight = (shape: number[], f = (i: number) => (i % 5) - 2) =>
  Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => f(i));
const UP = { op: 'conv_transpose2d' as const, params: { stride_h: 2, stride_w: 2, padding_h: 1, padding_w: 1 } };
const upTensors = () => ({
  weight: { shape: [4, 2, 4, 4], values: weight([4, 2, 4, 4]) },
  bias: { shape: [2], values: Float32Array.from([1, -1]) },
});
const input = (c = 4) => ({
  name: 'input',
  shape: [1, c, 3, 3],
  datatype: 'FP32',
  data: Array.from({ length: c * 9 }, (_, i) => i / 10),
});
const infer = (app: FastifyInstance, name: string, body: unknown, headers: Record<string, string> = {}) =>
  send(app, { method: 'POST', url: `/v2/models/${name}/infer`, payload: body, headers });
const index = async (app: FastifyInstance, body?: unknown) =>
  (await send(app, { method: 'POST', url: '/v2/repository/index', ...(body ? { payload: body } : {}) })).json();

describe('POST /v2/repository/models/{name}/load, /unload and the index', () => {
  let app: FastifyInstance;
  before(async () => {
    app = await build(null);
  });
  after(() => app.close());

  it('loads a layer (config + base64 safetensors) that then serves infer, metadata, config and readiness', async () => {
    const res = await loadLayer(app, 'up', UP, upTensors());
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(await index(app), [{ name: 'up', version: '1', state: 'READY', reason: '' }]);
    const meta = (await send(app, { method: 'GET', url: '/v2/models/up' })).json();
    assert.deepEqual(meta.inputs, [{ name: 'input', datatype: 'FP32', shape: [-1, 4, -1, -1] }]);
    assert.deepEqual(meta.outputs, [{ name: 'output', datatype: 'FP32', shape: [-1, 2, -1, -1] }]);
    assert.deepEqual(Object.keys(meta.parameters.passes), ['forward', 'grad_input', 'grad_parameters', 'backward']);
    assert.deepEqual(
      meta.parameters.passes.grad_input.inputs.map((i: { name: string }) => i.name),
      ['grad_output'],
    );
    const config = (await send(app, { method: 'GET', url: '/v2/models/up/config' })).json();
    assert.equal(config.backend, 'convsvc');
    assert.deepEqual(config.parameters.stride_h, { string_value: '2' });
    assert.deepEqual(config.input, [{ name: 'input', data_type: 'TYPE_FP32', dims: [-1, 4, -1, -1] }]);
    assert.equal((await send(app, { method: 'GET', url: '/v2/models/up/versions/1/config' })).statusCode, 200);
    assert.equal((await send(app, { method: 'GET', url: '/v2/models/up/versions/2/config' })).statusCode, 404);
    assert.deepEqual((await send(app, { method: 'GET', url: '/v2/models/up/ready' })).json(), {
      name: 'up',
      ready: true,
    });
    const out = await infer(app, 'up', { inputs: [input()] });
    assert.equal(out.statusCode, 200, out.body);
    // Triton's versioned paths: version 1 is the model, any other a 404.
    const versioned = await infer(app, 'up/versions/1', { inputs: [input()] });
    assert.deepEqual(versioned.json(), out.json());
    assert.equal((await infer(app, 'up/versions/2', { inputs: [input()] })).statusCode, 404);
    assert.deepEqual((await send(app, { method: 'GET', url: '/v2/models/up/versions/1' })).json(), meta);
    assert.equal((await send(app, { method: 'GET', url: '/v2/models/up/versions/1/ready' })).statusCode, 200);
    assert.equal((await send(app, { method: 'GET', url: '/v2/models/conv2d/versions/3/ready' })).statusCode, 404);
    assert.deepEqual(out.json().outputs[0].shape, [1, 2, 6, 6]);
    assert.equal(out.json().model_name, 'up');
  });

  it('takes back the configuration GET .../config answers (Triton round trip)', async () => {
    const config = (await send(app, { method: 'GET', url: '/v2/models/up/config' })).body;
    const res = await send(app, {
      method: 'POST',
      url: '/v2/repository/models/up/load',
      payload: loadBody(config, safetensors(upTensors())),
    });
    assert.equal(res.statusCode, 200, res.body);
  });

  it('refuses a request that sends what the layer holds, or a parameter it fixes, or another datatype', async () => {
    const w = { name: 'weight', shape: [4, 2, 4, 4], datatype: 'FP32', data: Array(128).fill(0) };
    let res = await infer(app, 'up', { inputs: [input(), w] });
    assert.equal(res.statusCode, 400);
    assert.match(res.json().error, /weight is stored in layer up; send only input/);
    res = await infer(app, 'up', { parameters: { padding_h: 0 }, inputs: [input()] });
    assert.equal(res.statusCode, 400);
    assert.match(res.json().error, /parameters\.padding_h is fixed by layer up/);
    res = await infer(app, 'up', { inputs: [{ ...input(), datatype: 'FP64' }] });
    assert.equal(res.statusCode, 422);
    res = await infer(app, 'up', { parameters: { pass: 'sideways' }, inputs: [input()] });
    assert.equal(res.statusCode, 400);
    assert.match(res.json().error, /parameters\.pass must be one of forward, grad_input, grad_parameters, backward/);
    res = await infer(app, 'up', { inputs: [input(3)] });
    assert.equal(res.statusCode, 422);
  });

  it('keeps the previous version serving when a reload fails, and says why', async () => {
    const before = (await infer(app, 'up', { inputs: [input()] })).json();
    const bad = [
      loadBody(layerConfig(UP), Buffer.from('not a safetensors file')),
      loadBody('{"backend": "convsvc"}', safetensors(upTensors())),
      loadBody(
        layerConfig(UP),
        safetensors({
          weight: { shape: [4, 2, 4, 4], values: weight([4, 2, 4, 4]) },
          bias: { shape: [3], values: new Float32Array(3) },
        }),
      ),
      { parameters: { config: JSON.stringify(layerConfig(UP)), 'file:1/model.safetensors': 'not base64!' } },
      { parameters: { 'file:1/model.safetensors': safetensors(upTensors()).toString('base64') } },
      { parameters: { config: JSON.stringify(layerConfig(UP)), 'file:2/model.onnx': '' } },
    ];
    for (const payload of bad) {
      const res = await send(app, { method: 'POST', url: '/v2/repository/models/up/load', payload });
      assert.ok(res.statusCode === 400 || res.statusCode === 422, `${res.statusCode} ${res.body}`);
      assert.ok(typeof res.json().error === 'string');
      assert.deepEqual((await infer(app, 'up', { inputs: [input()] })).json(), before);
      assert.equal((await index(app))[0].state, 'READY');
    }
  });

  it("refuses names that are not plain words, and the built-in models' names", async () => {
    for (const name of ['..', '.hidden', 'a%2Fb', 'x'.repeat(65), 'conv2d', 'im2col', 'a%20b']) {
      const res = await loadLayer(app, name, UP, upTensors());
      assert.ok(res.statusCode === 400 || res.statusCode === 404, `${name}: ${res.statusCode}`);
      assert.ok(typeof res.json().error === 'string', name);
    }
    assert.deepEqual(
      (await index(app)).map((e: { name: string }) => e.name),
      ['up'],
    );
  });

  it("counts each model's requests in the statistics extension, failures apart", async () => {
    await send(app, {
      method: 'POST',
      url: '/v2/repository/models/stat/load',
      payload: loadBody(layerConfig(UP), safetensors(upTensors())),
    });
    await infer(app, 'stat', { inputs: [input()] });
    await infer(app, 'stat', { inputs: [{ ...input(), shape: [1, 4, 9, 1] }] });
    await infer(app, 'stat', { inputs: [input(3)] });
    const { model_stats } = (await send(app, { method: 'GET', url: '/v2/models/stat/stats' })).json();
    assert.equal(model_stats.length, 1);
    const s = model_stats[0];
    assert.equal(s.name, 'stat');
    assert.equal(s.version, '1');
    assert.equal(s.inference_count, 2);
    assert.equal(s.execution_count, 2);
    assert.equal(s.inference_stats.success.count, 2);
    assert.equal(s.inference_stats.fail.count, 1);
    assert.ok(s.inference_stats.compute_infer.ns > 0);
    assert.ok(s.last_inference > 0);
    assert.deepEqual(
      s.batch_stats.map((b: { batch_size: number }) => b.batch_size),
      [1],
    );
    const all = (await send(app, { method: 'GET', url: '/v2/models/stats' })).json().model_stats;
    assert.ok(all.some((m: { name: string }) => m.name === 'conv2d'));
    assert.ok(all.some((m: { name: string }) => m.name === 'stat'));
    assert.equal((await send(app, { method: 'GET', url: '/v2/models/stat/versions/1/stats' })).statusCode, 200);
  });

  it('unloads: later requests get 404, the index shows it UNAVAILABLE "unloaded", a second unload is 404', async () => {
    const res = await send(app, {
      method: 'POST',
      url: '/v2/repository/models/stat/unload',
      payload: { parameters: { unload_dependents: false } },
    });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal((await infer(app, 'stat', { inputs: [input()] })).statusCode, 404);
    assert.equal((await send(app, { method: 'GET', url: '/v2/models/stat' })).statusCode, 404);
    assert.deepEqual(
      (await index(app)).find((e: { name: string }) => e.name === 'stat'),
      {
        name: 'stat',
        version: '1',
        state: 'UNAVAILABLE',
        reason: 'unloaded',
      },
    );
    assert.deepEqual(
      (await index(app, { ready: true })).map((e: { name: string }) => e.name),
      ['up'],
    );
    assert.equal((await send(app, { method: 'POST', url: '/v2/repository/models/stat/unload' })).statusCode, 404);
  });

  it('answers every request during reloads with one version or the other, never a mix', async () => {
    const version = (v: number) => ({ weight: { shape: [4, 2, 4, 4], values: weight([4, 2, 4, 4], () => v) } });
    assert.equal((await loadLayer(app, 'flip', UP, version(1))).statusCode, 200);
    const one = (await infer(app, 'flip', { inputs: [input()] })).json().outputs[0].data;
    const requests = Array.from({ length: 24 }, () => infer(app, 'flip', { inputs: [input()] }));
    const reloads = [2, 1, 2].map((v) => loadLayer(app, 'flip', UP, version(v)));
    const answers = await Promise.all(requests);
    for (const r of await Promise.all(reloads)) assert.equal(r.statusCode, 200);
    const two = (await infer(app, 'flip', { inputs: [input()] })).json().outputs[0].data;
    assert.notDeepEqual(one, two);
    for (const res of answers) {
      const data = res.json().outputs[0].data;
      assert.ok(JSON.stringify(data) === JSON.stringify(one) || JSON.stringify(data) === JSON.stringify(two));
    }
  });

  it('lets requests that hold a layer finish while it is unloaded', async () => {
    const big = { weight: { shape: [64, 64, 4, 4], values: weight([64, 64, 4, 4]) } };
    assert.equal((await loadLayer(app, 'busy', UP, big)).statusCode, 200);
    const x = { name: 'input', shape: [8, 64, 16, 16], datatype: 'FP32', data: Array(8 * 64 * 256).fill(0.5) };
    const running = Array.from({ length: 3 }, () => infer(app, 'busy', { inputs: [x] }));
    const unloaded = await send(app, { method: 'POST', url: '/v2/repository/models/busy/unload' });
    assert.equal(unloaded.statusCode, 200);
    for (const res of await Promise.all(running))
      assert.ok([200, 404].includes(res.statusCode), res.body.slice(0, 200));
  });
});

describe('limits of stored layers', () => {
  it('refuses a layer past MAX_STORED_BYTES with 413, the others still serving', async (t) => {
    const app = await build(t, { maxStoredBytes: 4096 });
    assert.equal(
      (await loadLayer(app, 'a', UP, { weight: { shape: [4, 2, 4, 4], values: weight([4, 2, 4, 4]) } })).statusCode,
      200,
    );
    const res = await loadLayer(app, 'b', UP, { weight: { shape: [16, 16, 4, 4], values: weight([16, 16, 4, 4]) } });
    assert.equal(res.statusCode, 413);
    assert.match(res.json().error, /MAX_STORED_BYTES/);
    assert.equal((await infer(app, 'a', { inputs: [input()] })).statusCode, 200);
  });

  it('takes a load body larger than MAX_BODY_BYTES, up to what MAX_STORED_BYTES allows', async (t) => {
    const app = await build(t, { maxBodyBytes: 64 * 1024, maxStoredBytes: 1 << 20 });
    const w = [64, 64, 4, 4];
    const res = await loadLayer(app, 'wide', UP, { weight: { shape: w, values: weight(w) } });
    assert.equal(res.statusCode, 200, res.body);
  });
});

describe('who may load and unload', () => {
  it('is anyone while no key is set, as the rest of the API', async (t) => {
    const app = await build(t);
    assert.equal((await loadLayer(app, 'up', UP, upTensors())).statusCode, 200);
  });

  it('needs an ADMIN_API_KEYS key once keys are set: 401 without one, 403 with an API key, and API keys still infer', async (t) => {
    const app = await build(t, { apiKeys: ['user'], adminApiKeys: ['root'] });
    const none = await loadLayer(app, 'up', UP, upTensors());
    assert.equal(none.statusCode, 401);
    const user = await loadLayer(app, 'up', UP, upTensors(), { authorization: 'Bearer user' });
    assert.equal(user.statusCode, 403);
    assert.match(user.json().error, /ADMIN_API_KEYS/);
    assert.equal((await loadLayer(app, 'up', UP, upTensors(), { authorization: 'Bearer root' })).statusCode, 200);
    assert.equal((await infer(app, 'up', { inputs: [input()] }, { authorization: 'Bearer user' })).statusCode, 200);
    const unload = (key: string) =>
      send(app, {
        method: 'POST',
        url: '/v2/repository/models/up/unload',
        headers: { authorization: `Bearer ${key}` },
      });
    assert.equal((await unload('user')).statusCode, 403);
    assert.equal((await unload('root')).statusCode, 200);
  });

  it('is nobody when API keys are set and no admin key is', async (t) => {
    const app = await build(t, { apiKeys: ['user'] });
    assert.equal((await loadLayer(app, 'up', UP, upTensors(), { authorization: 'Bearer user' })).statusCode, 403);
  });
});

describe('MODEL_REPOSITORY', () => {
  it('serves every layer of the directory at start; a broken one is UNAVAILABLE with its reason', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'convsvc-repo-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const put = (name: string, config: string, file?: Buffer) => {
      mkdirSync(join(dir, name, '1'), { recursive: true });
      writeFileSync(join(dir, name, 'config.json'), config);
      if (file) writeFileSync(join(dir, name, '1', 'model.safetensors'), file);
    };
    put('good', JSON.stringify(layerConfig(UP)), safetensors(upTensors()));
    put('broken', '{"backend": "convsvc", "parameters": {}}', safetensors(upTensors()));
    put('nofile', JSON.stringify(layerConfig(UP)));
    put('conv2d', JSON.stringify(layerConfig(UP)), safetensors(upTensors()));
    const app = await build(t, { modelRepository: dir });
    const entries = await index(app);
    assert.deepEqual(
      entries.map((e: { name: string; state: string }) => [e.name, e.state]),
      [
        ['broken', 'UNAVAILABLE'],
        ['conv2d', 'UNAVAILABLE'],
        ['good', 'READY'],
        ['nofile', 'UNAVAILABLE'],
      ],
    );
    assert.match(entries[0].reason, /parameters\.op/);
    assert.match(entries[1].reason, /built-in model/);
    assert.match(entries[3].reason, /no nofile\/1\/model\.safetensors/);
    assert.equal((await infer(app, 'good', { inputs: [input()] })).statusCode, 200);
    const notServing = await infer(app, 'broken', { inputs: [input()] });
    assert.equal(notServing.statusCode, 404);
    assert.match(notServing.json().error, /not serving: .*parameters\.op/);
    // Fixed on disk, a load without files reads it again.
    put('broken', JSON.stringify(layerConfig(UP)), safetensors(upTensors()));
    assert.equal((await send(app, { method: 'POST', url: '/v2/repository/models/broken/load' })).statusCode, 200);
    assert.equal((await infer(app, 'broken', { inputs: [input()] })).statusCode, 200);
  });
});

describe('memory of loads', () => {
  it('refuses a load body the memory budget could never hold with 413, before reading it', async (t) => {
    const app = await build(t, { memoryBudgetBytes: 16 * 2 ** 20, maxStoredBytes: 64 * 2 ** 20 });
    const w = [512, 512, 4, 4];
    const res = await loadLayer(app, 'huge', UP, { weight: { shape: w, values: new Float32Array(512 * 512 * 16) } });
    assert.equal(res.statusCode, 413);
    assert.match(res.json().error, /memory budget/);
    assert.deepEqual(await index(app), []);
  });

  it('charges a body whose base64 must be parsed whole (escaped) more than a plain one: admitted by one, refused by the other', async (t) => {
    // A file of ~1 MiB: its body ~1.33 MiB, charged 3.5 x plain and 5 x escaped; the budget between.
    const w = [128, 128, 4, 4];
    const tensors = { weight: { shape: w, values: weight(w, (i) => Math.sin(i)) } };
    const plain = JSON.stringify(loadBody(layerConfig(UP), safetensors(tensors)));
    const escaped = plain.replace(
      /("file:1\/model\.safetensors":")([^"]*)"/,
      (_m, key: string, b64: string) => `${key}${b64.replaceAll('/', '\\/')}"`,
    );
    assert.notEqual(escaped, plain);
    assert.deepEqual(JSON.parse(escaped), JSON.parse(plain), 'the same request, spelt with escapes');
    const budget = Math.round(4.25 * Buffer.byteLength(escaped));
    const app = await build(t, { memoryBudgetBytes: budget, maxStoredBytes: 64 * 2 ** 20 });
    const post = (name: string, payload: string) =>
      send(app, {
        method: 'POST',
        url: `/v2/repository/models/${name}/load`,
        headers: { 'content-type': 'application/json' },
        payload,
      });
    const refused = await post('escaped', escaped);
    assert.equal(refused.statusCode, 413, refused.body);
    assert.match(refused.json().error, /memory budget/);
    assert.equal((await post('plain', plain)).statusCode, 200);
    assert.deepEqual(
      (await index(app)).map((m: { name: string; state: string }) => [m.name, m.state]),
      [['plain', 'READY']],
    );
  });
});

/**
 * The primary as one server process of several sees it over its IPC channel: kernel slots granted
 * at once, no layers loaded before, each process's statistics `others` plus this one's, and a
 * change of a layer that another process fails with `othersFail`.
 */
class FakePrimary extends EventEmitter {
  readonly asked: Record<string, unknown>[] = [];
  constructor(
    readonly others: unknown[],
    readonly othersFail?: string,
  ) {
    super();
  }
  send(message: { convsvc: string; id: number; names?: string[] }): boolean {
    this.asked.push(message);
    const answer = (m: unknown) => setImmediate(() => this.emit('message', m));
    const { id } = message;
    if (message.convsvc === 'slot?') answer({ convsvc: 'slot', id });
    if (message.convsvc === 'layers?') answer({ convsvc: 'layers', id, layers: [] });
    if (message.convsvc === 'stats?') {
      // This process's own share, as the primary would ask it.
      this.once('share', (own: unknown[]) => answer({ convsvc: 'stats', id, shares: [own, this.others] }));
      answer({ convsvc: 'stat-share?', id: 77, names: message.names });
    }
    if (message.convsvc === 'stat-share') this.emit('share', (message as unknown as { stats: unknown[] }).stats);
    if (message.convsvc === 'layer?')
      answer({ convsvc: 'layer', id, ...(this.othersFail ? { error: this.othersFail } : {}) });
    return true;
  }
}

describe('in one server process of several', () => {
  const clustered = async (t: { after: (f: () => unknown) => void }, primary: FakePrimary) => {
    // What the primary does for its processes: a copies directory of its own, named in the environment.
    const copies = makeLayerCopiesDir();
    process.env[LAYER_COPIES_ENV] = copies;
    t.after(() => {
      delete process.env[LAYER_COPIES_ENV];
      rmSync(copies, { recursive: true, force: true });
    });
    return build(t, {}, { cluster: new ClusterLink(primary) });
  };

  it("answers a load another process could not follow with 503 and the reason, never the client's fault", async (t) => {
    const reason = 'up holds 200 bytes; that is over MAX_STORED_BYTES (100); every server process serves up as before';
    const app = await clustered(t, new FakePrimary([], reason));
    const res = await loadLayer(app, 'up', UP, upTensors());
    assert.equal(res.statusCode, 503, res.body);
    assert.equal(res.json().error, `not every server process could load up: ${reason}`);
  });

  it('reports the statistics of every process added up', async (t) => {
    const primary = new FakePrimary([]);
    const app = await clustered(t, primary);
    assert.equal((await loadLayer(app, 'up', UP, upTensors())).statusCode, 200);
    assert.equal((await infer(app, 'up', { inputs: [input()] })).statusCode, 200);
    const own = (await send(app, { method: 'GET', url: '/v2/models/up/stats' })).json().model_stats[0];
    assert.equal(own.execution_count, 1);
    primary.others.push({ ...own, execution_count: 2, inference_count: 2, last_inference: own.last_inference + 1 });
    const sum = (await send(app, { method: 'GET', url: '/v2/models/up/stats' })).json().model_stats[0];
    assert.deepEqual(
      [sum.execution_count, sum.inference_count, sum.last_inference, sum.inference_stats.success.count],
      [3, 3, own.last_inference + 1, 2],
    );
  });

  it('answers the statistics with 503 when the primary that gathers them is gone', async (t) => {
    const primary = new FakePrimary([]);
    const app = await clustered(t, primary);
    primary.emit('disconnect');
    const res = await send(app, { method: 'GET', url: '/v2/models/stats' });
    assert.equal(res.statusCode, 503, res.body);
    assert.match(
      res.json().error,
      /statistics of the other server processes could not be gathered: the primary process is gone/,
    );
  });
});
