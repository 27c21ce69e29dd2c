import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import {
  assertClose,
  assertDtype,
  GOLDEN_ROUTES,
  type GoldenCase,
  type GoldenRoute,
  loadGolden,
} from '../../golden/fixtures.js';
import { build } from '../../helpers/build.js';
import { send } from '../../helpers/http.js';
import { type JsonTensor, randomTensor, readTensor } from '../../helpers/tensors.js';
import { modelOf, outputsOf, postBinary, postJson, type RawResponse, sendRaw, toV2 } from './wire.js';

/**
 * POST /v2/models/{model}/infer against the PyTorch golden vectors and against /v1 itself: the
 * same kernels answer, so v2 JSON and binary outputs equal /v1's bit for bit.
 */
let app: FastifyInstance;
before(async () => {
  app = await build(null);
});
after(() => app.close());

const snake = (s: string) => s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

async function v1Answer(route: GoldenRoute, c: GoldenCase): Promise<Record<string, Float32Array | Float64Array>> {
  const res = await send(app, { method: 'POST', url: route, payload: { ...c.request, outputEncoding: 'base64' } });
  assert.equal(res.statusCode, 200, res.body);
  return Object.fromEntries(
    Object.entries(res.json() as Record<string, JsonTensor>).map(([k, t]) => [snake(k), readTensor(t)]),
  );
}

function checkGolden(c: GoldenCase, res: RawResponse, model: string) {
  assert.equal(res.status, 200, res.body.toString());
  const { header, values } = outputsOf(res);
  assert.equal(header.model_name, model);
  assert.deepEqual(Object.keys(values).sort(), Object.keys(c.response).map(snake).sort(), 'output names');
  for (const [field, want] of Object.entries(c.response)) {
    const name = snake(field);
    const out = header.outputs.find((o) => o.name === name)!;
    assert.deepEqual(out.shape, want!.shape, `${name}.shape`);
    assert.equal(out.datatype, c.dtype === 'float64' ? 'FP64' : 'FP32');
    assertDtype(values[name], c.dtype, name);
    assertClose(values[name], want!, c.dtype, `${c.name} ${name}`);
  }
  return values;
}

for (const route of GOLDEN_ROUTES) {
  const model = modelOf(route);
  describe(`POST /v2/models/${model}/infer`, () => {
    const { cases } = loadGolden(route);
    it(`answers every golden case (${cases.length}) in JSON, as /v1 does`, async () => {
      for (const c of cases) {
        const values = checkGolden(c, await postJson(app, model, toV2(c.request).request), model);
        assert.deepEqual(values, await v1Answer(route, c), `${c.name}: same numbers as /v1`);
      }
    });
    it('answers every golden case with binary inputs and binary outputs, as /v1 does', async () => {
      for (const c of cases) {
        const { request, tensors } = toV2(c.request, { binary: true });
        const res = await postBinary(
          app,
          model,
          { ...request, parameters: { ...request.parameters, binary_data_output: true } },
          tensors,
        );
        assert.equal(res.headers['content-type'], 'application/octet-stream');
        const { header, values } = outputsOf(res);
        assert.ok(
          header.outputs.every((o) => o.data === undefined && o.parameters?.binary_data_size !== undefined),
          'every output binary',
        );
        checkGolden(c, res, model);
        assert.deepEqual(values, await v1Answer(route, c), `${c.name}: same numbers as /v1`);
      }
    });
  });
}

describe('the binary tensor data extension', () => {
  const c = loadGolden('/v1/conv2d/backward').cases[0];

  it('mixes JSON and binary inputs, and binary and JSON outputs chosen per output', async () => {
    const { request } = toV2(c.request);
    const weight = request.inputs.find((i) => i.name === 'weight')!;
    const values = Float32Array.from(weight.data as number[]);
    delete weight.data;
    weight.parameters = { binary_data_size: values.byteLength };
    const outputs = [{ name: 'grad_weight', parameters: { binary_data: true } }, { name: 'grad_input' }];
    const res = await postBinary(app, 'conv2d_backward', { ...request, outputs }, [values]);
    const { header, values: got } = outputsOf(res);
    assert.deepEqual(
      header.outputs.map((o) => [o.name, o.data === undefined]),
      [
        ['grad_weight', true],
        ['grad_input', false],
      ],
    );
    const v1 = await v1Answer('/v1/conv2d/backward', c);
    assert.deepEqual(got.grad_weight, v1.grad_weight);
    assert.deepEqual(got.grad_input, v1.grad_input);
  });

  it("takes the framing with no content type at all (as Triton's Python client sends it)", async () => {
    const { request, tensors } = toV2(c.request, { binary: true });
    const res = await postBinary(app, 'conv2d_backward', request, tensors, {});
    assert.equal(res.status, 200, res.body.toString());
    assert.equal(
      res.headers['content-type'],
      'application/json; charset=utf-8',
      'JSON outputs when none is asked binary',
    );
  });

  const refusals: [string, (r: ReturnType<typeof toV2>) => void, RegExp][] = [
    [
      "a binary_data_size that is not the shape's bytes",
      (r) => (r.request.inputs[0].parameters!.binary_data_size! -= 4),
      /binary_data_size is \d+ but shape .* needs \d+ bytes/,
    ],
    [
      'more bytes than the inputs declare',
      (r) => r.tensors.push(new Float32Array(1)),
      /binary section holds \d+ bytes but .* add up to \d+/,
    ],
    ['fewer bytes than the inputs declare', (r) => r.tensors.pop(), /binary section ends at byte/],
    ['both data and binary_data_size', (r) => (r.request.inputs[0].data = [1]), /either data or binary_data_size/],
  ];
  for (const [what, spoil, message] of refusals) {
    it(`refuses ${what} with 400 {"error"}`, async () => {
      const r = toV2(c.request, { binary: true });
      spoil(r);
      const res = await postBinary(app, 'conv2d_backward', r.request, r.tensors);
      assert.equal(res.status, 400, res.body.toString());
      assert.match(res.json().error, message);
    });
  }

  it('refuses a header length past the body, and octet-stream without one', async () => {
    let res = await sendRaw(app, 'POST', '/v2/models/im2col/infer', Buffer.from('{}'), {
      'content-type': 'application/octet-stream',
      'inference-header-content-length': '99',
    });
    assert.equal(res.status, 400);
    assert.match(res.json().error, /inference-header-content-length must be/);
    res = await sendRaw(app, 'POST', '/v2/models/im2col/infer', Buffer.from('{}'), {
      'content-type': 'application/octet-stream',
    });
    assert.equal(res.status, 400);
    assert.match(res.json().error, /needs an Inference-Header-Content-Length/);
  });
});

describe('inference requests', () => {
  const c = loadGolden('/v1/conv-transpose2d/forward').cases[0];
  const base = () => toV2(c.request).request;

  it('takes nested data, FP64, NaN and the infinities, and echoes the request id', async () => {
    const req = {
      id: 'req-7',
      inputs: [
        {
          name: 'input',
          shape: [1, 1, 2, 2],
          datatype: 'FP64',
          data: [
            [
              [1, 'NaN'],
              ['Infinity', 4],
            ],
          ],
        },
        { name: 'weight', shape: [1, 1, 1, 1], datatype: 'FP64', data: [2] },
      ],
    };
    const res = await postJson(app, 'conv_transpose2d', req);
    assert.equal(res.status, 200, res.body.toString());
    const body = res.json();
    assert.equal(body.id, 'req-7');
    assert.deepEqual(body.outputs, [
      { name: 'output', datatype: 'FP64', shape: [1, 1, 2, 2], data: [2, 'NaN', 'Infinity', 8] },
    ]);
  });

  const refused: [string, number, (r: any) => unknown, RegExp][] = [
    [
      'an unknown input',
      400,
      (r) => r.inputs.push({ name: 'image', shape: [1], datatype: 'FP32', data: [1] }),
      /has no input "image"; its inputs are input, weight, bias/,
    ],
    ['an input given twice', 400, (r) => r.inputs.push(r.inputs[0]), /input input is given twice/],
    ['a missing required input', 400, (r) => r.inputs.splice(1, 1), /^weight is required/],
    ['an unsupported datatype', 400, (r) => (r.inputs[0].datatype = 'INT32'), /inputs\[0\]\.datatype/],
    ['data of the wrong length', 400, (r) => r.inputs[0].data.pop(), /input\.data has \d+ values but shape/],
    ['a non-number in data', 400, (r) => (r.inputs[0].data[0] = true), /every value must be a number/],
    ['1e39 in FP32 data', 400, (r) => (r.inputs[0].data[0] = 1e39), /is not a finite float32/],
    [
      'an unknown parameter',
      400,
      (r) => (r.parameters = { strides: 2 }),
      /parameters\.strides is not a parameter of model conv_transpose2d/,
    ],
    ['half a pair', 400, (r) => (r.parameters = { stride_h: 2 }), /stride_h and parameters\.stride_w go together/],
    [
      'a parameter out of range',
      400,
      (r) => (r.parameters = { dilation_h: 1, dilation_w: 0 }),
      /parameters\.dilation_w must be >= 1/,
    ],
    ['an unknown output', 400, (r) => (r.outputs = [{ name: 'grad_input' }]), /has no output "grad_input"/],
    ['an unknown field', 400, (r) => (r.inputz = []), /inputz/],
    [
      'mixed datatypes',
      422,
      (r) => {
        r.inputs[1].datatype = 'FP64';
      },
      /share one dtype/,
    ],
    [
      'channels that disagree',
      422,
      (r) => {
        r.inputs[1].shape = [r.inputs[0].shape[1] + 1, ...r.inputs[1].shape.slice(1)];
        r.inputs[1].data = new Array(r.inputs[1].shape.reduce((a: number, b: number) => a * b, 1)).fill(0);
      },
      /weight\.shape\[0\]/,
    ],
    [
      'an output_padding not below stride or dilation',
      422,
      (r) => (r.parameters = { output_padding_h: 3, output_padding_w: 0 }),
      /output_padding_h/,
    ],
  ];
  for (const [what, status, spoil, message] of refused) {
    it(`refuses ${what} with ${status} {"error": ...}`, async () => {
      const req = base();
      spoil(req);
      const res = await postJson(app, 'conv_transpose2d', req);
      assert.equal(res.status, status, res.body.toString());
      assert.equal(res.headers['content-type'], 'application/json; charset=utf-8');
      assert.deepEqual(Object.keys(res.json()), ['error']);
      assert.match(res.json().error, message);
    });
  }

  it('refuses grad_bias as an output when compute_bias is false, before the work', async () => {
    const g = loadGolden('/v1/conv2d/backward').cases[0];
    const { request } = toV2(g.request);
    const res = await postJson(app, 'conv2d_backward', {
      ...request,
      parameters: { ...request.parameters, compute_bias: false },
      outputs: [{ name: 'grad_bias' }],
    });
    assert.equal(res.status, 400);
    assert.match(res.json().error, /grad_bias is not computed when compute_bias is false/);
  });

  it("derives conv2d_grad_input's input shape from input_h / input_w, grad_output and the weight, and requires them", async () => {
    const g = loadGolden('/v1/conv2d/grad-input').cases[0];
    const { request } = toV2(g.request);
    assert.equal(typeof request.parameters?.input_h, 'number');
    const { input_h: _h, input_w: _w, ...rest } = request.parameters!;
    const res = await postJson(app, 'conv2d_grad_input', { ...request, parameters: rest });
    assert.equal(res.status, 400);
    assert.match(res.json().error, /parameters\.input_h\/input_w is required/);
  });

  it('answers 404 {"error"} for an unknown model, 415 for another content type', async () => {
    let res = await postJson(app, 'conv3d', base());
    assert.equal(res.status, 404);
    assert.match(res.json().error, /no model conv3d; the models are conv_transpose2d, /);
    res = await sendRaw(app, 'POST', '/v2/models/conv_transpose2d/infer', 'x', { 'content-type': 'text/plain' });
    assert.equal(res.status, 415);
    assert.match(res.json().error, /application\/json/);
  });

  it('answers malformed JSON and __proto__ keys with 400 {"error"}', async () => {
    let res = await sendRaw(app, 'POST', '/v2/models/im2col/infer', '{"inputs": [', {
      'content-type': 'application/json',
    });
    assert.equal(res.status, 400);
    assert.ok(res.json().error);
    res = await sendRaw(app, 'POST', '/v2/models/im2col/infer', '{"__proto__": {"x": 1}, "inputs": []}', {
      'content-type': 'application/json',
    });
    assert.equal(res.status, 400);
    // The JSON is valid: the answer names the key, not a syntax error.
    assert.match(res.json().error, /valid JSON, but it has a key "__proto__"/);
  });
});

describe('limits and admission, as for /v1', () => {
  const req = toV2(loadGolden('/v1/conv-transpose2d/forward').cases[0].request).request;

  it('answers 413 {"error"} for a body over MAX_BODY_BYTES, JSON or binary', async (t) => {
    const small = await build(t, { maxBodyBytes: 1024 });
    const big = {
      inputs: [{ name: 'input', shape: [1, 1, 20, 20], datatype: 'FP32', data: new Array(400).fill(0.5) }],
    };
    let res = await postJson(small, 'im2col', big);
    assert.equal(res.status, 413);
    assert.ok(res.json().error);
    res = await postBinary(
      small,
      'im2col',
      { inputs: [{ name: 'input', shape: [1, 1, 20, 20], datatype: 'FP32', parameters: { binary_data_size: 1600 } }] },
      [new Float32Array(400)],
    );
    assert.equal(res.status, 413);
  });

  it('answers 413 for a result over MAX_ELEMENTS, from the shapes alone', async (t) => {
    const small = await build(t, { maxElements: 10 });
    const res = await postJson(small, 'conv_transpose2d', req);
    assert.equal(res.status, 413, res.body.toString());
    assert.match(res.json().error, /MAX_ELEMENTS|more than/);
  });

  it('charges what parsing a body of short values holds: zeros that fit as ordinary numbers are refused 413', async (t) => {
    const app = await build(t, { memoryBudgetBytes: 16 * 2 ** 20 });
    // Input and weight of the same size, one output element: 1 MiB of text either way.
    const bodyOf = (value: number) => {
      const n = (2 ** 19 / (String(value).length + 1)) | 0;
      const data = new Array(n).fill(value);
      return {
        inputs: [
          { name: 'input', shape: [1, 1, 1, n], datatype: 'FP32', data },
          { name: 'weight', shape: [1, 1, 1, n], datatype: 'FP32', data },
        ],
      };
    };
    const ordinary = await postJson(app, 'conv2d', bodyOf(0.1234567));
    assert.equal(ordinary.status, 200, ordinary.body.toString());
    const zeros = await postJson(app, 'conv2d', bodyOf(0));
    assert.equal(zeros.status, 413, zeros.body.toString());
    assert.match(zeros.json().error, /memory budget of 16\.0 MiB/);
  });

  it('answers 503 {"error"} with Retry-After once shutdown has begun', async (t) => {
    const closing = await build(t);
    closing.pool.stopAdmitting();
    const res = await postJson(closing, 'conv_transpose2d', req);
    assert.equal(res.status, 503);
    assert.ok(res.headers['retry-after']);
    assert.match(res.json().error, /shutting down/);
  });

  it('answers 401 {"error"} without a known bearer token when API_KEYS is set', async (t) => {
    const guarded = await build(t, { apiKeys: ['k1'] });
    let res = await postJson(guarded, 'conv_transpose2d', req);
    assert.equal(res.status, 401);
    assert.ok(res.json().error);
    res = await sendRaw(guarded, 'POST', '/v2/models/conv_transpose2d/infer', JSON.stringify(req), {
      'content-type': 'application/json',
      authorization: 'Bearer k1',
    });
    assert.equal(res.status, 200);
  });
});

describe('a request large enough to be shared by the workers', () => {
  it('answers byte for byte as one worker does, in binary and in JSON outputs', async (t) => {
    const one = await build(t, { workers: 1 });
    // A batch of 2, 64 -> 32 channels, k4 s2 p1, 16x16 -> 32x32: shared by sample on two workers.
    const body = {
      input: randomTensor([2, 64, 16, 16], 'float32', 1),
      weight: randomTensor([64, 32, 4, 4], 'float32', 2),
      bias: randomTensor([32], 'float32', 3),
      stride: 2,
      padding: 1,
    };
    const { request, tensors } = toV2(body as never, { binary: true });
    for (const binaryOutput of [true, false]) {
      const req = { ...request, parameters: { ...request.parameters, binary_data_output: binaryOutput } };
      const shared = await postBinary(app, 'conv_transpose2d', req, tensors);
      const whole = await postBinary(one, 'conv_transpose2d', req, tensors);
      assert.equal(shared.status, 200, shared.body.toString().slice(0, 300));
      assert.ok(shared.body.equals(whole.body), `binary_data_output ${binaryOutput}`);
    }
  });
});
