import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { opRoutes } from '../../../src/routes/op-routes.js';
import { build } from '../../helpers/build.js';
import { send } from '../../helpers/http.js';

/** The protocol's server, health and model metadata endpoints. */
let app: FastifyInstance;
before(async () => {
  app = await build(null);
});
after(() => app.close());

const get = (url: string) => send(app, { method: 'GET', url });

const MODELS = [
  'conv_transpose2d',
  'conv_transpose2d_grad_input',
  'conv_transpose2d_grad_parameters',
  'conv_transpose2d_backward',
  'conv2d',
  'conv2d_grad_input',
  'conv2d_grad_parameters',
  'conv2d_backward',
  'im2col',
  'col2im',
];

describe('GET /v2', () => {
  it('names the server and the extensions it speaks: binary tensors, the model repository, configurations, statistics', async () => {
    const res = await get('/v2');
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), {
      name: 'convsvc',
      version: res.json().version,
      extensions: ['binary_tensor_data', 'model_repository', 'model_configuration', 'statistics'],
    });
    assert.match(res.json().version, /^\d+\.\d+\.\d+/);
  });
});

describe('GET /v2/health/live and /v2/health/ready', () => {
  it('answer 200 while the server runs and can take work', async () => {
    assert.deepEqual((await get('/v2/health/live')).json(), { live: true });
    const res = await get('/v2/health/ready');
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { ready: true });
  });

  it('ready answers 503 {"error"} once shutdown has begun, and so does every model', async (t) => {
    const closing = await build(t);
    closing.pool.stopAdmitting();
    for (const url of ['/v2/health/ready', '/v2/models/conv2d/ready']) {
      const res = await send(closing, { method: 'GET', url });
      assert.equal(res.statusCode, 503, url);
      assert.match(res.json().error, /shutting down/);
    }
    assert.equal((await send(closing, { method: 'GET', url: '/v2/health/live' })).statusCode, 200);
  });
});

describe('GET /v2/models/{name}', () => {
  it('lists one model per /v1 op route', () => {
    assert.equal(opRoutes.length, MODELS.length);
  });

  for (const name of MODELS) {
    it(`describes ${name}: snake_case tensors, FP32, every dimension -1`, async () => {
      const res = await get(`/v2/models/${name}`);
      assert.equal(res.statusCode, 200);
      const meta = res.json();
      assert.equal(meta.name, name);
      assert.equal(meta.platform, 'convsvc');
      for (const t of [...meta.inputs, ...meta.outputs]) {
        assert.match(t.name, /^[a-z_]+$/);
        assert.equal(t.datatype, 'FP32');
        assert.ok(t.shape.length >= 1 && t.shape.every((d: number) => d === -1), `${t.name}: ${t.shape}`);
      }
      assert.deepEqual((await get(`/v2/models/${name}/ready`)).json(), { name, ready: true });
    });
  }

  it('names the tensors as /v1 does, in snake_case', async () => {
    const meta = (await get('/v2/models/conv_transpose2d_grad_parameters')).json();
    assert.deepEqual(
      meta.inputs.map((t: { name: string }) => t.name),
      ['input', 'grad_output', 'grad_weight', 'grad_bias'],
    );
    assert.deepEqual(
      meta.outputs.map((t: { name: string }) => t.name),
      ['grad_weight', 'grad_bias'],
    );
    const fwd = (await get('/v2/models/conv2d')).json();
    assert.deepEqual(
      fwd.inputs.map((t: { name: string; shape: number[] }) => [t.name, t.shape.length]),
      [
        ['input', 4],
        ['weight', 4],
        ['bias', 1],
      ],
    );
    assert.deepEqual((await get('/v2/models/col2im')).json().inputs[0], {
      name: 'columns',
      datatype: 'FP32',
      shape: [-1, -1, -1],
    });
  });

  it('answers 404 {"error"} for an unknown model or route under /v2', async () => {
    for (const url of ['/v2/models/conv3d', '/v2/models/conv3d/ready', '/v2/nothing']) {
      const res = await get(url);
      assert.equal(res.statusCode, 404, url);
      assert.deepEqual(Object.keys(res.json()), ['error']);
    }
  });
});
