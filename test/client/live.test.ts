import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  type ConvsvcClient,
  ConvsvcError,
  createConvsvcClient,
  fromV1Answer,
  type Tensor,
  tensor,
  toV1Tensor,
} from '../../client/index.js';
import { type RunningServer, startServer } from '../../scripts/server-process.js';
import { assertClose, loadGolden, toTypedArray } from '../golden/fixtures.js';

/** The typed client against a live instance: the built server as a real process on loopback. */
const entry = fileURLToPath(new URL('../../src/server.js', import.meta.url));
let server: RunningServer;
let client: ConvsvcClient;
before(async () => {
  server = await startServer({ WORKERS: '1' }, { entry });
  client = createConvsvcClient({ baseUrl: server.url });
});
after(async () => {
  server.child.kill('SIGTERM');
  await server.exited;
});

const golden = loadGolden('/v1/conv-transpose2d/backward').cases.find(
  (c) => c.request.input && c.request.weight && c.request.gradOutput,
)!;
const inputs = {
  input: tensor(toTypedArray(golden.request.input!), golden.request.input!.shape),
  grad_output: tensor(toTypedArray(golden.request.gradOutput!), golden.request.gradOutput!.shape),
  weight: tensor(toTypedArray(golden.request.weight!), golden.request.weight!.shape),
};
const pair = (v: number | readonly [number, number] | undefined, d: number) =>
  v === undefined ? [d, d] : typeof v === 'number' ? [v, v] : v;
const r = golden.request;
const parameters = Object.fromEntries(
  (
    [
      ['stride', pair(r.stride, 1)],
      ['padding', pair(r.padding, 0)],
      ['output_padding', pair(r.outputPadding, 0)],
      ['dilation', pair(r.dilation, 1)],
    ] as const
  ).flatMap(([k, [h, w]]) => [
    [`${k}_h`, h],
    [`${k}_w`, w],
  ]),
);

async function v1Numbers(): Promise<Record<string, Tensor>> {
  const { data, error } = await client.http.POST('/v1/conv-transpose2d/backward', {
    body: {
      input: toV1Tensor(inputs.input),
      gradOutput: toV1Tensor(inputs.grad_output),
      weight: toV1Tensor(inputs.weight),
      stride: r.stride as number[] | number | undefined,
      padding: r.padding as number[] | number | undefined,
      outputPadding: r.outputPadding as number[] | number | undefined,
      dilation: r.dilation as number[] | number | undefined,
      groups: r.groups,
      scale: r.scale,
      computeBias: r.computeBias,
    },
  });
  assert.equal(error, undefined);
  const answer = fromV1Answer(data!);
  return {
    grad_input: answer.gradInput,
    grad_weight: answer.gradWeight,
    ...(answer.gradBias ? { grad_bias: answer.gradBias } : {}),
  };
}

describe('the typed client against a live instance', () => {
  const extra = {
    ...(r.groups !== undefined ? { groups: r.groups } : {}),
    ...(r.scale !== undefined ? { scale: r.scale } : {}),
    ...(r.computeBias !== undefined ? { compute_bias: r.computeBias } : {}),
  };

  it('a v2 request with binary inputs and binary outputs returns the same numbers as /v1', async () => {
    const v2 = await client.infer('conv_transpose2d_backward', inputs, { ...parameters, ...extra });
    const v1 = await v1Numbers();
    assert.deepEqual(Object.keys(v2).sort(), Object.keys(v1).sort());
    for (const name of Object.keys(v1)) {
      assert.deepEqual(v2[name].shape, v1[name].shape, name);
      assert.deepEqual(v2[name].values, v1[name].values, `${name}: bit for bit`);
    }
    assertClose(v2.grad_input.values, golden.response.gradInput!, golden.dtype, 'grad_input against PyTorch');
  });

  it('speaks JSON v2 too, with the same numbers', async () => {
    const json = await client.infer(
      'conv_transpose2d_backward',
      inputs,
      { ...parameters, ...extra },
      { binary: false },
    );
    const binary = await client.infer('conv_transpose2d_backward', inputs, { ...parameters, ...extra });
    assert.deepEqual(json, binary);
  });

  it('reads model metadata through the typed paths', async () => {
    const { data } = await client.http.GET('/v2/models/{model_name}', { params: { path: { model_name: 'col2im' } } });
    assert.deepEqual(
      data?.inputs.map((i) => i.name),
      ['columns'],
    );
    const ready = await client.http.GET('/health/ready');
    assert.equal(ready.response.status, 200);
  });

  it("turns a refusal into a ConvsvcError with the status and the service's words", async () => {
    const channels = inputs.input.shape[inputs.input.shape.length - 3];
    const bad = { ...inputs, weight: tensor(new Float32Array(channels + 1), [channels + 1, 1, 1, 1]) };
    await assert.rejects(client.infer('conv_transpose2d_backward', bad), (err: unknown) => {
      assert.ok(err instanceof ConvsvcError);
      assert.equal(err.status, 422);
      assert.match(err.message, /weight\.shape\[0\]/);
      return true;
    });
  });
});
