import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { status } from '@grpc/grpc-js';
import { layerConfig, loadBody, safetensors } from '../../helpers/layers.js';
import { refused, serve, unary } from './client.js';

/**
 * RepositoryModelLoad and RepositoryModelUnload: administrative as REST's routes are (the same
 * keys decide), with REST's limits, memory budget and refusals, under gRPC's codes.
 */
const CONFIG = JSON.stringify(layerConfig({ op: 'conv2d', params: { stride_h: 1, stride_w: 1 } }));
const FILE = safetensors({ weight: { shape: [2, 1, 3, 3], values: new Float32Array(18).fill(0.5) } });

const loadParameters = (config: string, file: Buffer) => ({
  config: { string_param: config },
  'file:1/model.safetensors': { bytes_param: file },
});
const loadMessage = (name: string) => ({ model_name: name, parameters: loadParameters(CONFIG, FILE) });
const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

describe('RepositoryModelLoad and RepositoryModelUnload: keys', () => {
  it('need an ADMIN_API_KEYS key once keys are set: UNAUTHENTICATED without one, PERMISSION_DENIED with an API key', async (t) => {
    const { inference } = await serve(t, { apiKeys: ['user'], adminApiKeys: ['root'] });
    for (const method of ['RepositoryModelLoad', 'RepositoryModelUnload']) {
      const none = await refused(unary(inference, method, loadMessage('keyed')));
      assert.equal(none.code, status.UNAUTHENTICATED, method);
      assert.equal(none.details, 'an Authorization: Bearer <API key> header is required');
      const unknown = await refused(unary(inference, method, loadMessage('keyed'), bearer('guess')));
      assert.equal(unknown.code, status.UNAUTHENTICATED, method);
      const user = await refused(unary(inference, method, loadMessage('keyed'), bearer('user')));
      assert.equal(user.code, status.PERMISSION_DENIED, method);
      assert.match(user.details, /needs an administrative key \(ADMIN_API_KEYS\); an API key is not one/);
    }
    assert.deepEqual(await unary(inference, 'RepositoryModelLoad', loadMessage('keyed'), bearer('root')), {});
    // The API keys read the index and run the layer; an admin key is no API key.
    const index = await unary(inference, 'RepositoryIndex', {}, bearer('user'));
    assert.equal(index.models[0].name, 'keyed');
    const adminOnly = await refused(unary(inference, 'RepositoryIndex', {}, bearer('root')));
    assert.equal(adminOnly.code, status.UNAUTHENTICATED);
    assert.deepEqual(await unary(inference, 'RepositoryModelUnload', { model_name: 'keyed' }, bearer('root')), {});
  });

  it('are nobody’s when API keys are set and no admin key is', async (t) => {
    const { inference } = await serve(t, { apiKeys: ['user'] });
    const err = await refused(unary(inference, 'RepositoryModelLoad', loadMessage('x'), bearer('user')));
    assert.equal(err.code, status.PERMISSION_DENIED);
  });
});

describe('RepositoryModelLoad: refusals, with REST’s messages', () => {
  /** REST's answer to the load body of the same parameters. */
  const restError = async (app: any, name: string, body: unknown) => {
    const res = await app.inject({
      method: 'POST',
      url: `/v2/repository/models/${name}/load`,
      payload: body,
      headers: { 'content-type': 'application/json' },
    });
    return { status: res.statusCode, error: JSON.parse(res.body).error as string };
  };

  it('malformed parameters are INVALID_ARGUMENT', async (t) => {
    const { app, inference } = await serve(t);
    const load = (parameters: unknown) =>
      refused(unary(inference, 'RepositoryModelLoad', { model_name: 'bad', parameters }));
    const cases: [string, unknown, RegExp][] = [
      ['config as an int64', { config: { int64_param: 3 } }, /parameters\.config: /],
      [
        'the file as a string',
        { 'file:1/model.safetensors': { string_param: 'AAAA' } },
        /is a file: send its content in bytes_param/,
      ],
      ['bytes that are no file', { config: { bytes_param: Buffer.from('{}') } }, /bytes_param is for files/],
      ['a parameter without a value', { config: {} }, /parameters\["config"\] has no value/],
      ['a file without its config', { 'file:1/model.safetensors': { bytes_param: FILE } }, /needs parameters\.config/],
      ['an unknown parameter', { ...loadParameters(CONFIG, FILE), colour: { string_param: 'red' } }, /colour/],
      ['a file that is no safetensors', loadParameters(CONFIG, Buffer.from('not a file')), /1\/model\.safetensors: /],
      ['a config that is not JSON', loadParameters('{', FILE), /^config\.json: /],
    ];
    for (const [what, parameters, message] of cases) {
      const err = await load(parameters);
      assert.equal(err.code, status.INVALID_ARGUMENT, what);
      assert.match(err.details, message, what);
    }
    // The same words as REST's, for what both can send.
    const grpc = await load({ 'file:1/model.safetensors': { bytes_param: FILE } });
    const rest = await restError(app, 'bad', { parameters: { 'file:1/model.safetensors': FILE.toString('base64') } });
    assert.equal(rest.status, 400);
    assert.equal(grpc.details, rest.error);
    const name = await refused(unary(inference, 'RepositoryModelLoad', { model_name: 'conv2d', parameters: {} }));
    assert.equal(name.code, status.INVALID_ARGUMENT);
    assert.equal(name.details, (await restError(app, 'conv2d', loadBody(CONFIG, FILE))).error);
    const index = await unary(inference, 'RepositoryIndex', {});
    assert.equal(index.models.find((m: any) => m.name === 'bad').state, 'UNAVAILABLE');
  });

  it('a layer over MAX_STORED_BYTES is RESOURCE_EXHAUSTED, and so is a message over the load limit, unread', async (t) => {
    const { inference } = await serve(t, { maxStoredBytes: 64 });
    const err = await refused(unary(inference, 'RepositoryModelLoad', loadMessage('big')));
    assert.equal(err.code, status.RESOURCE_EXHAUSTED);
    assert.match(err.details, /MAX_STORED_BYTES/);
    const huge = { model_name: 'huge', parameters: loadParameters(CONFIG, Buffer.alloc(1024 * 1024)) };
    const over = await refused(unary(inference, 'RepositoryModelLoad', huge));
    assert.equal(over.code, status.RESOURCE_EXHAUSTED);
    assert.match(over.details, /larger than max/);
  });

  it('a load larger than MAX_BODY_BYTES is taken, up to its own limit, and other calls keep MAX_BODY_BYTES', async (t) => {
    const { app, inference } = await serve(t, { maxBodyBytes: 4096 });
    const weight = new Float32Array(16 * 16 * 3 * 3).fill(0.25);
    const file = safetensors({ weight: { shape: [16, 16, 3, 3], values: weight } });
    assert.ok(file.length > 4096);
    assert.deepEqual(
      await unary(inference, 'RepositoryModelLoad', { model_name: 'wide', parameters: loadParameters(CONFIG, file) }),
      {},
    );
    assert.equal(app.memoryBudget.charged, 0, 'the load gave its charges back');
    const unload = await refused(
      unary(inference, 'RepositoryModelUnload', {
        model_name: 'wide',
        parameters: { pad: { bytes_param: Buffer.alloc(8192) } },
      }),
    );
    assert.equal(unload.code, status.RESOURCE_EXHAUSTED);
    assert.match(unload.details, /larger than max/);
  });

  it('a load the memory budget could never hold is RESOURCE_EXHAUSTED, as REST refuses it, and the budget is given back', async (t) => {
    const file = safetensors({ weight: { shape: [16, 16, 3, 3], values: new Float32Array(2304) } });
    // The load (REST's charge: 2.5 times its ~12 KiB body) or, smaller still, the message's file itself.
    for (const [budget, what] of [
      [16 * 1024, 'the load'],
      [8 * 1024, 'the load message'],
    ] as const) {
      const { app, inference } = await serve(t, { memoryBudgetBytes: budget });
      const err = await refused(
        unary(inference, 'RepositoryModelLoad', { model_name: 'heavy', parameters: loadParameters(CONFIG, file) }),
      );
      assert.equal(err.code, status.RESOURCE_EXHAUSTED);
      assert.match(err.details, new RegExp(`^${what} would hold about .* more than the service's memory budget`));
      assert.equal(app.memoryBudget.charged, 0);
    }
  });
});
