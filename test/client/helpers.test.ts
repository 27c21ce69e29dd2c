import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  createConvsvcClient,
  fromV1Tensor,
  fromV2Response,
  tensor,
  toV1Tensor,
  toV2Request,
} from '../../client/index.js';

describe('tensor', () => {
  it('refuses a shape that does not hold the values', () => {
    assert.throws(() => tensor(new Float32Array(5), [2, 3]), /holds 6 values, not 5/);
  });
});

describe('toV1Tensor / fromV1Tensor', () => {
  const values = Float64Array.from([1.5, NaN, Infinity, -Infinity, -0.25, 1e-300]);
  for (const encoding of ['base64', 'json'] as const) {
    it(`carry every float64 value through ${encoding}, NaN and the infinities included`, () => {
      const sent = toV1Tensor(tensor(values, [2, 3]), encoding);
      assert.equal(sent.dtype, 'float64');
      assert.equal(
        encoding === 'base64' ? typeof sent.b64 : Array.isArray(sent.data) ? 'array' : 'none',
        encoding === 'base64' ? 'string' : 'array',
      );
      const back = fromV1Tensor({
        shape: sent.shape,
        dtype: 'float64',
        ...(sent.b64 ? { b64: sent.b64 } : { data: sent.data! }),
      });
      assert.ok(back.values instanceof Float64Array);
      assert.deepEqual(back.values, values);
    });
  }
  it('keeps float32 as float32', () => {
    const sent = toV1Tensor(tensor(Float32Array.from([0.1, 2]), [2]));
    assert.equal(sent.dtype, 'float32');
    assert.ok(fromV1Tensor({ shape: [2], dtype: 'float32', b64: sent.b64! }).values instanceof Float32Array);
  });
});

describe('toV2Request / fromV2Response', () => {
  it('frame the inputs after the JSON header, in order, and read binary outputs back', () => {
    const a = Float32Array.from([1, 2, 3, 4]);
    const b = Float64Array.from([5]);
    const { request, body, headerLength } = toV2Request(
      { input: tensor(a, [1, 1, 2, 2]), weight: tensor(b, [1, 1, 1, 1]) },
      { stride_h: 2, stride_w: 2 },
    );
    assert.deepEqual(request.parameters, { stride_h: 2, stride_w: 2, binary_data_output: true });
    assert.deepEqual(
      request.inputs.map((i) => [i.name, i.datatype, i.parameters?.binary_data_size]),
      [
        ['input', 'FP32', 16],
        ['weight', 'FP64', 8],
      ],
    );
    assert.equal(body.length, headerLength + 24);
    assert.deepEqual(JSON.parse(new TextDecoder().decode(body.subarray(0, headerLength))), request);
    assert.deepEqual(new Float32Array(body.slice(headerLength, headerLength + 16).buffer), a);

    const header = new TextEncoder().encode(
      JSON.stringify({
        model_name: 'm',
        outputs: [
          { name: 'output', datatype: 'FP32', shape: [2], parameters: { binary_data_size: 8 } },
          { name: 'x', datatype: 'FP64', shape: [1], data: ['NaN'] },
        ],
      }),
    );
    const framed = new Uint8Array(header.length + 8);
    framed.set(header);
    framed.set(new Uint8Array(Float32Array.from([7, 8]).buffer), header.length);
    const out = fromV2Response(framed, header.length);
    assert.deepEqual(out.output, { shape: [2], values: Float32Array.from([7, 8]) });
    assert.ok(Number.isNaN(out.x.values[0]) && out.x.values instanceof Float64Array);
    assert.throws(() => fromV2Response(framed.subarray(0, framed.length - 4), header.length), /bytes/);
  });

  it('puts the values in JSON data when binary is off', () => {
    const { request, body, headerLength } = toV2Request(
      { input: tensor(Float32Array.from([1, NaN]), [2]) },
      {},
      { binary: false },
    );
    assert.equal(headerLength, body.length);
    assert.deepEqual(request.inputs[0].data, [1, 'NaN']);
    assert.equal(request.parameters?.binary_data_output, undefined);
  });
});

describe('createConvsvcClient', () => {
  it('sends the API key as a bearer token and the binary framing headers', async () => {
    let seen: Request | undefined;
    const fakeFetch = async (req: Request) => {
      seen = req;
      return new Response(JSON.stringify({ model_name: 'im2col', outputs: [] }), {
        status: 200,
        headers: { 'content-type': 'application/json' },
      });
    };
    const client = createConvsvcClient({
      baseUrl: 'http://127.0.0.1:9/',
      apiKey: 'k1',
      fetch: fakeFetch as typeof fetch,
    });
    assert.deepEqual(
      await client.infer('im2col', { input: tensor(new Float32Array(4), [1, 1, 2, 2]) }, { kernel_h: 1, kernel_w: 1 }),
      {},
    );
    assert.ok(seen);
    assert.equal(seen.url, 'http://127.0.0.1:9/v2/models/im2col/infer');
    assert.equal(seen.headers.get('authorization'), 'Bearer k1');
    assert.equal(seen.headers.get('content-type'), 'application/octet-stream');
    const body = new Uint8Array(await seen.arrayBuffer());
    assert.equal(body.length, Number(seen.headers.get('inference-header-content-length')) + 16);
  });
});
