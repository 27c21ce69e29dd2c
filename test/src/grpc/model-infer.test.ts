import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@grpc/grpc-js';
import { status } from '@grpc/grpc-js';
import { assertClose, assertDtype, GOLDEN_ROUTES, loadGolden } from '../../golden/fixtures.js';
import { modelOf, outputsOf, postBinary, toV2 } from '../v2/wire.js';
import { rawOf, refused, type Served, serve, unary } from './client.js';
import { inferRequest, outputValues, params } from './messages.js';

/**
 * ModelInfer against the PyTorch golden vectors, and against /v2 over REST: one pipeline, so the
 * numbers are REST's bit for bit, in raw or typed contents.
 */
let served: Served & { close(): Promise<void> };
let client: Client;
before(async () => {
  served = await serve(null);
  client = served.inference;
});
after(() => served.close());

const snake = (s: string) => s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
const infer = (message: unknown, metadata?: Record<string, string>) =>
  unary<any>(client, 'ModelInfer', message, metadata);

for (const route of GOLDEN_ROUTES) {
  const model = modelOf(route);
  describe(`ModelInfer ${model}`, () => {
    const { cases } = loadGolden(route);
    for (const typed of [false, true]) {
      it(`answers every golden case (${cases.length}) from ${typed ? 'typed contents, in typed contents' : 'raw_input_contents, in raw_output_contents'}, as REST /v2 does`, async () => {
        for (const c of cases) {
          const message = inferRequest(model, c.request, { typed });
          if (typed) message.parameters.binary_data_output = { bool_param: false };
          const res = await infer(message);
          assert.equal(res.model_name, model);
          assert.equal(res.model_version, '1');
          assert.equal(res.raw_output_contents.length, typed ? 0 : res.outputs.length);
          const values = outputValues(res);
          assert.deepEqual(Object.keys(values).sort(), Object.keys(c.response).map(snake).sort(), 'output names');
          for (const [field, want] of Object.entries(c.response)) {
            const name = snake(field);
            const out = res.outputs.find((o: { name: string }) => o.name === name);
            assert.deepEqual(out.shape, want!.shape, `${name}.shape`);
            assert.equal(out.datatype, c.dtype === 'float64' ? 'FP64' : 'FP32');
            assertDtype(values[name], c.dtype, name);
            assertClose(values[name], want!, c.dtype, `${c.name} ${name}`);
          }
          const { request, tensors } = toV2(c.request, { binary: true });
          const rest = outputsOf(
            await postBinary(
              served.app,
              model,
              { ...request, parameters: { ...request.parameters, binary_data_output: true } },
              tensors,
            ),
          );
          assert.deepEqual(values, rest.values, `${c.name}: the same numbers as REST`);
        }
      });
    }
  });
}

const smallRequest = () => ({
  model_name: 'conv_transpose2d',
  parameters: params({ stride_h: 2, stride_w: 2 }),
  inputs: [
    { name: 'input', datatype: 'FP32', shape: [1, 1, 2, 2] },
    { name: 'weight', datatype: 'FP32', shape: [1, 1, 3, 3] },
  ],
  raw_input_contents: [rawOf(Float32Array.from([1, 2, 3, 4])), rawOf(new Float32Array(9).fill(1))],
});

describe('ModelInfer: the request', () => {
  it('echoes the id, takes model_version "" or "1", and answers only the outputs asked for, in their order', async () => {
    const res = await infer({
      ...smallRequest(),
      id: 'call-7',
      model_version: '1',
      model_name: 'conv2d_backward',
      parameters: {},
      inputs: [
        { name: 'input', datatype: 'FP32', shape: [1, 1, 3, 3] },
        { name: 'grad_output', datatype: 'FP32', shape: [1, 1, 1, 1] },
        { name: 'weight', datatype: 'FP32', shape: [1, 1, 3, 3] },
      ],
      raw_input_contents: [
        rawOf(new Float32Array(9).fill(1)),
        rawOf(Float32Array.from([2])),
        rawOf(new Float32Array(9).fill(3)),
      ],
      outputs: [{ name: 'grad_weight' }, { name: 'grad_input' }],
    });
    assert.equal(res.id, 'call-7');
    assert.deepEqual(
      res.outputs.map((o: { name: string }) => o.name),
      ['grad_weight', 'grad_input'],
    );
    assert.deepEqual([...outputValues(res).grad_weight], new Array(9).fill(2));
    assert.deepEqual([...outputValues(res).grad_input], new Array(9).fill(6));
  });

  it('takes FP64 in raw and typed contents and answers FP64', async () => {
    const message = smallRequest();
    message.inputs = message.inputs.map((i) => ({ ...i, datatype: 'FP64' }));
    message.raw_input_contents = [rawOf(Float64Array.from([1, 2, 3, 4])), rawOf(new Float64Array(9).fill(1))];
    const raw = await infer(message);
    assert.equal(raw.outputs[0].datatype, 'FP64');
    const typed = await infer({
      ...message,
      raw_input_contents: [],
      inputs: [
        { ...message.inputs[0], contents: { fp64_contents: [1, 2, 3, 4] } },
        { ...message.inputs[1], contents: { fp64_contents: new Array(9).fill(1) } },
      ],
      outputs: [{ name: 'output', parameters: { binary_data: { bool_param: false } } }],
    });
    assert.deepEqual(typed.outputs[0].contents.fp64_contents, [...outputValues(raw).output]);
  });

  it('takes NaN and infinities in typed contents as raw bytes carry them', async () => {
    const res = await infer({
      ...smallRequest(),
      raw_input_contents: [],
      inputs: [
        { name: 'input', datatype: 'FP32', shape: [1, 1, 1, 2], contents: { fp32_contents: [Number.NaN, Infinity] } },
        { name: 'weight', datatype: 'FP32', shape: [1, 1, 1, 1], contents: { fp32_contents: [1] } },
      ],
      parameters: {},
    });
    const out = outputValues(res).output;
    assert.ok(Number.isNaN(out[0]));
    assert.equal(out[1], Infinity);
  });
});

describe('ModelInfer: refusals, with REST /v2 messages', () => {
  const cases: [string, (m: ReturnType<typeof smallRequest>) => unknown, status, RegExp][] = [
    [
      'an unknown model',
      (m) => ({ ...m, model_name: 'conv3d' }),
      status.NOT_FOUND,
      /^no model conv3d; the models are conv_transpose2d, /,
    ],
    [
      'a version other than 1',
      (m) => ({ ...m, model_version: '2' }),
      status.NOT_FOUND,
      /has no version 2; it has version 1/,
    ],
    [
      'an unknown input',
      (m) => ({ ...m, inputs: [{ ...m.inputs[0], name: 'x' }, m.inputs[1]] }),
      status.INVALID_ARGUMENT,
      /has no input "x"; its inputs are input, weight, bias/,
    ],
    [
      'an unknown parameter',
      (m) => ({ ...m, parameters: params({ strides: 2 }) }),
      status.INVALID_ARGUMENT,
      /parameters\.strides is not a parameter of model conv_transpose2d/,
    ],
    [
      'a parameter of the wrong type',
      (m) => ({ ...m, parameters: params({ stride_h: 'two', stride_w: 2 }) }),
      status.INVALID_ARGUMENT,
      /parameters\.stride_h/,
    ],
    [
      'a datatype it does not take',
      (m) => ({ ...m, inputs: [{ ...m.inputs[0], datatype: 'INT8' }, m.inputs[1]] }),
      status.INVALID_ARGUMENT,
      /the request does not match the schema: inputs\[0\]\.datatype/,
    ],
    [
      'mixed datatypes',
      (m) => ({
        ...m,
        inputs: [m.inputs[0], { ...m.inputs[1], datatype: 'FP64' }],
        raw_input_contents: [m.raw_input_contents[0], rawOf(new Float64Array(9))],
      }),
      status.INVALID_ARGUMENT,
      /all tensors must share one dtype/,
    ],
    [
      'inconsistent channels (REST 422)',
      (m) => ({ ...m, inputs: [{ ...m.inputs[0], shape: [1, 2, 1, 2] }, m.inputs[1]] }),
      status.INVALID_ARGUMENT,
      /^input\.shape\[1\] \(2\) must equal weight\.shape\[0\] \(1\)$/,
    ],
    [
      'fewer raw contents than inputs',
      (m) => ({ ...m, raw_input_contents: [m.raw_input_contents[0]] }),
      status.INVALID_ARGUMENT,
      /raw_input_contents has 1 entries but there are 2 inputs/,
    ],
    [
      'raw contents of the wrong size',
      (m) => ({ ...m, raw_input_contents: [m.raw_input_contents[0], Buffer.alloc(8)] }),
      status.INVALID_ARGUMENT,
      /weight: the size of raw_input_contents\[1\] is 8 but shape \[1, 1, 3, 3\] of FP32 needs 36 bytes/,
    ],
    [
      'raw and typed contents together',
      (m) => ({ ...m, inputs: [{ ...m.inputs[0], contents: { fp32_contents: [1, 2, 3, 4] } }, m.inputs[1]] }),
      status.INVALID_ARGUMENT,
      /raw_input_contents or in contents, not both/,
    ],
    [
      'typed contents of another datatype',
      (m) => ({
        ...m,
        raw_input_contents: [],
        inputs: [{ ...m.inputs[0], contents: { fp64_contents: [1, 2, 3, 4] } }, m.inputs[1]],
      }),
      status.INVALID_ARGUMENT,
      /contents\.fp64_contents does not hold FP32 tensors; use contents\.fp32_contents/,
    ],
    [
      'no elements at all',
      (m) => ({ ...m, raw_input_contents: [] }),
      status.INVALID_ARGUMENT,
      /give its elements in raw_input_contents or in contents\.fp32_contents/,
    ],
    [
      'typed contents too short',
      (m) => ({
        ...m,
        raw_input_contents: [],
        inputs: [
          { ...m.inputs[0], contents: { fp32_contents: [1, 2, 3] } },
          { ...m.inputs[1], contents: { fp32_contents: new Array(9).fill(1) } },
        ],
      }),
      status.INVALID_ARGUMENT,
      /input: the size of contents\.fp32_contents \(4 bytes a value\) is 12 but shape \[1, 1, 2, 2\] of FP32 needs 16 bytes/,
    ],
    [
      'a parameter without a value',
      (m) => ({ ...m, parameters: { stride_h: {}, stride_w: { int64_param: 2 } } }),
      status.INVALID_ARGUMENT,
      /parameters\.stride_h has no value/,
    ],
    [
      'an unknown output',
      (m) => ({ ...m, outputs: [{ name: 'out' }] }),
      status.INVALID_ARGUMENT,
      /has no output "out"; its outputs are output/,
    ],
    [
      'raw and typed outputs together',
      (m) => ({
        ...m,
        model_name: 'conv2d_backward',
        parameters: {},
        inputs: [
          m.inputs[0],
          { name: 'grad_output', datatype: 'FP32', shape: [1, 1, 2, 2] },
          { ...m.inputs[1], shape: [1, 1, 1, 1] },
        ],
        raw_input_contents: [m.raw_input_contents[0], rawOf(new Float32Array(4)), rawOf(new Float32Array(1))],
        outputs: [{ name: 'grad_input' }, { name: 'grad_weight', parameters: { binary_data: { bool_param: false } } }],
      }),
      status.INVALID_ARGUMENT,
      /must all be raw \(raw_output_contents\) or all typed/,
    ],
    [
      'a tensor over MAX_ELEMENTS',
      (m) => ({ ...m, parameters: params({ stride_h: 4096, stride_w: 4096 }) }),
      status.RESOURCE_EXHAUSTED,
      /MAX_ELEMENTS|elements/,
    ],
  ];
  for (const [what, change, code, message] of cases) {
    it(`${what}: ${status[code]}`, async () => {
      const err = await refused(infer(change(smallRequest())));
      assert.equal(err.code, code, err.details);
      assert.match(err.details, message);
    });
  }

  it('the same refusal as REST gives, word for word', async () => {
    const err = await refused(infer({ ...smallRequest(), parameters: params({ groups: 0 }) }));
    const rest = await postBinary(
      served.app,
      'conv_transpose2d',
      {
        parameters: { groups: 0 },
        inputs: [
          { name: 'input', datatype: 'FP32', shape: [1, 1, 2, 2], parameters: { binary_data_size: 16 } },
          { name: 'weight', datatype: 'FP32', shape: [1, 1, 3, 3], parameters: { binary_data_size: 36 } },
        ],
      },
      [new Float32Array(4), new Float32Array(9)],
    );
    assert.equal(rest.status, 400);
    assert.equal(err.details, rest.json().error);
  });
});
