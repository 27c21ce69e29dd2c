import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { status } from '@grpc/grpc-js';
import { assertClose, type GoldenCase, loadGolden } from '../../golden/fixtures.js';
import { layerConfig, safetensors } from '../../helpers/layers.js';
import { toV2, typed } from '../v2/wire.js';
import { rawOf, refused, type Served, serve, unary } from './client.js';
import { inferRequest, outputValues, params } from './messages.js';

/**
 * Stored layers over gRPC: loaded with RepositoryModelLoad as tritonclient's load_model sends a
 * layer (config in string_param, the safetensors file in bytes_param), then run with ModelInfer,
 * described by ModelMetadata, ModelReady and ModelConfig, counted by ModelStatistics and taken
 * out by RepositoryModelUnload: the store REST serves, with REST's answers.
 */
let served: Served & { close(): Promise<void> };
before(async () => {
  served = await serve(null);
});
after(() => served.close());

const call = (method: string, message: unknown) => unary<any>(served.inference, method, message);

const FIXED = /^(stride|padding|output_padding|dilation)_[hw]$|^groups$/;

/** A golden conv2d forward case as a layer (weight, bias, fixed parameters) and its own request. */
function asLayer(c: GoldenCase) {
  const { request, tensors } = toV2(c.request, { binary: true });
  const fixed = Object.fromEntries(Object.entries(request.parameters ?? {}).filter(([k]) => FIXED.test(k))) as Record<
    string,
    number
  >;
  const stored: Record<string, { shape: readonly number[]; values: Float32Array | Float64Array }> = {
    weight: { shape: c.request.weight!.shape, values: typed(c.request.weight!) },
  };
  if (c.request.bias) stored.bias = { shape: c.request.bias.shape, values: typed(c.request.bias) };
  const own = request.inputs.map((input, i) => ({ input, tensor: tensors[i] })).filter((x) => x.input.name === 'input');
  const rest = Object.fromEntries(Object.entries(request.parameters ?? {}).filter(([k]) => !FIXED.test(k)));
  return {
    config: JSON.stringify(layerConfig({ op: 'conv2d', params: fixed })),
    file: safetensors(stored),
    message: (name: string) => ({
      model_name: name,
      parameters: params(rest as Record<string, number>),
      inputs: own.map(({ input }) => ({ name: input.name, datatype: input.datatype, shape: input.shape })),
      raw_input_contents: own.map(({ tensor }) => rawOf(tensor)),
    }),
  };
}

export const loadParameters = (config: string, file: Buffer) => ({
  config: { string_param: config },
  'file:1/model.safetensors': { bytes_param: file },
});

describe('a layer loaded over gRPC', () => {
  const { cases } = loadGolden('/v1/conv2d/forward');

  it('answers a golden case as PyTorch does, and bit for bit as the stateless model given its weight', async () => {
    for (const [i, c] of cases.slice(0, 4).entries()) {
      const name = `golden-${i}`;
      const layer = asLayer(c);
      assert.deepEqual(
        await call('RepositoryModelLoad', { model_name: name, parameters: loadParameters(layer.config, layer.file) }),
        {},
      );
      const res = await call('ModelInfer', layer.message(name));
      assert.equal(res.model_name, name);
      const values = outputValues(res);
      assertClose(values.output, c.response.output!, c.dtype, `${c.name} output`);
      const stateless = outputValues(await call('ModelInfer', inferRequest('conv2d', c.request)));
      assert.deepEqual(values, stateless, `${c.name}: the stateless model's numbers`);
    }
  });

  it('has metadata, readiness and a configuration as REST gives them (metadata without its parameters)', async () => {
    const layer = asLayer(cases[0]);
    await call('RepositoryModelLoad', {
      model_name: 'described',
      parameters: loadParameters(layer.config, layer.file),
    });
    const rest = JSON.parse((await served.app.inject({ method: 'GET', url: '/v2/models/described' })).body);
    const { parameters: _, ...restMetadata } = rest;
    assert.deepEqual(await call('ModelMetadata', { name: 'described' }), restMetadata);
    assert.deepEqual(await call('ModelReady', { name: 'described', version: '1' }), { ready: true });
    const restConfig = JSON.parse(
      (await served.app.inject({ method: 'GET', url: '/v2/models/described/config' })).body,
    );
    const { config } = await call('ModelConfig', { name: 'described' });
    assert.equal(config.name, 'described');
    assert.equal(config.backend, restConfig.backend);
    assert.deepEqual(config.parameters, restConfig.parameters);
    assert.deepEqual(
      config.input.map((t: any) => ({ name: t.name, data_type: t.data_type, dims: t.dims })),
      restConfig.input,
    );
    assert.deepEqual(
      config.output.map((t: any) => ({ name: t.name, data_type: t.data_type, dims: t.dims })),
      restConfig.output,
    );
    const builtIn = await call('ModelConfig', { name: 'conv2d' });
    assert.equal(builtIn.config.input[0].name, 'input');
    assert.equal(builtIn.config.input[0].data_type, 'TYPE_FP32');
  });

  it('counts N inferences in ModelStatistics, as GET /v2/models/{name}/stats does', async () => {
    const layer = asLayer(cases[0]);
    await call('RepositoryModelLoad', { model_name: 'counted', parameters: loadParameters(layer.config, layer.file) });
    const n = 3;
    for (let i = 0; i < n; i++) await call('ModelInfer', layer.message('counted'));
    // One that fails: a pass no layer has.
    const failed = await refused(
      call('ModelInfer', { ...layer.message('counted'), parameters: params({ pass: 'sideways' }) }),
    );
    assert.equal(failed.code, status.INVALID_ARGUMENT);
    const { model_stats } = await call('ModelStatistics', { name: 'counted' });
    assert.equal(model_stats.length, 1);
    const [s] = model_stats;
    const batch = cases[0].request.input!.shape.length === 4 ? cases[0].request.input!.shape[0] : 1;
    assert.equal(s.name, 'counted');
    assert.equal(s.execution_count, n);
    assert.equal(s.inference_count, n * batch);
    assert.equal(s.inference_stats.success.count, n);
    assert.equal(s.inference_stats.fail.count, 1);
    assert.equal(s.inference_stats.compute_infer.count, n);
    assert.ok(s.inference_stats.success.ns > 0);
    assert.ok(s.last_inference > 0);
    assert.deepEqual(
      s.batch_stats.map((b: any) => [b.batch_size, b.compute_infer.count]),
      [[batch, n]],
    );
    const rest = JSON.parse((await served.app.inject({ method: 'GET', url: '/v2/models/counted/stats' })).body);
    assert.equal(rest.model_stats[0].execution_count, n, 'REST sees the gRPC calls');
    assert.equal(rest.model_stats[0].inference_stats.fail.count, 1);
    // Every model: the built-in ones and the serving layers.
    const all = await call('ModelStatistics', {});
    const names = all.model_stats.map((m: any) => m.name);
    assert.ok(names.includes('conv2d') && names.includes('counted'), names.join(','));
  });

  it('is listed by RepositoryIndex; once unloaded it is UNAVAILABLE and NOT_FOUND to every call', async () => {
    const layer = asLayer(cases[0]);
    await call('RepositoryModelLoad', { model_name: 'gone', parameters: loadParameters(layer.config, layer.file) });
    const ready = await call('RepositoryIndex', { ready: true });
    assert.deepEqual(
      ready.models.find((m: any) => m.name === 'gone'),
      { name: 'gone', version: '1', state: 'READY', reason: '' },
    );
    assert.deepEqual(await call('RepositoryModelUnload', { model_name: 'gone' }), {});
    const index = await call('RepositoryIndex', {});
    assert.deepEqual(
      index.models.find((m: any) => m.name === 'gone'),
      { name: 'gone', version: '1', state: 'UNAVAILABLE', reason: 'unloaded' },
    );
    assert.equal(
      (await call('RepositoryIndex', { ready: true })).models.find((m: any) => m.name === 'gone'),
      undefined,
    );
    for (const [method, message] of [
      ['ModelInfer', layer.message('gone')],
      ['ModelMetadata', { name: 'gone' }],
      ['ModelReady', { name: 'gone' }],
      ['ModelConfig', { name: 'gone' }],
      ['ModelStatistics', { name: 'gone' }],
    ] as const) {
      const err = await refused(call(method, message));
      assert.equal(err.code, status.NOT_FOUND, method);
      assert.equal(err.details, 'model gone is not serving: unloaded', method);
    }
    const again = await refused(call('RepositoryModelUnload', { model_name: 'gone' }));
    assert.equal(again.code, status.NOT_FOUND);
    assert.equal(again.details, 'no layer gone is serving');
  });
});
