import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { SPLIT_MIN_MACS } from '../../../src/split.js';
import { OFF_LOOP_BYTES } from '../../../src/tensor/off-loop-parse.js';
import { assertClose, assertDtype, GOLDEN_ROUTES, type GoldenCase, loadGolden } from '../../golden/fixtures.js';
import { build } from '../../helpers/build.js';
import { send } from '../../helpers/http.js';
import { type JsonTensor, randomTensor, readTensor, withBase64Tensors } from '../../helpers/tensors.js';

/**
 * Every op route against the PyTorch golden vectors, in both request encodings and with the
 * answer's encoding chosen explicitly; and again with INLINE_MAX_MACS=0, so the small golden
 * convs, which the default runs on the main thread, cross to the worker threads too.
 */
let app: FastifyInstance;
let onWorkers: FastifyInstance;
before(async () => {
  app = await build(null);
  onWorkers = await build(null, { inlineMaxMacs: 0 });
});
after(async () => {
  await app.close();
  await onWorkers.close();
});

async function post(url: string, body: unknown, to = app) {
  return send(to, { method: 'POST', url, payload: body as object });
}

function checkAnswer(c: GoldenCase, answer: Record<string, JsonTensor>, encoding: 'json' | 'base64') {
  assert.deepEqual(Object.keys(answer).sort(), Object.keys(c.response).sort(), 'result fields');
  for (const [name, want] of Object.entries(c.response)) {
    const got = answer[name];
    assert.deepEqual(got.shape, want!.shape, `${name}.shape`);
    assert.equal(got.dtype, c.dtype, `${name}.dtype`);
    assert.equal(
      encoding === 'base64' ? typeof got.b64 : Array.isArray(got.data) ? 'array' : 'none',
      encoding === 'base64' ? 'string' : 'array',
      `${name} encoding`,
    );
    const values = readTensor(got);
    assertDtype(values, c.dtype, name);
    assertClose(values, want!, c.dtype, `${c.name} ${name}`);
  }
}

for (const route of GOLDEN_ROUTES) {
  describe(`POST ${route}`, () => {
    const { cases } = loadGolden(route);
    it(`answers every golden case (${cases.length}) sent as JSON numbers, in JSON`, async () => {
      for (const c of cases) {
        const res = await post(route, c.request);
        assert.equal(res.statusCode, 200, `${c.name}: ${res.body.slice(0, 300)}`);
        assert.match(String(res.headers['content-type']), /^application\/json/);
        checkAnswer(c, res.json(), 'json');
      }
    });
    it('answers every golden case sent as base64, in base64', async () => {
      for (const c of cases) {
        const res = await post(route, withBase64Tensors(c.request));
        assert.equal(res.statusCode, 200, `${c.name}: ${res.body.slice(0, 300)}`);
        checkAnswer(c, res.json(), 'base64');
      }
    });
    it('answers every golden case the same with every task on a worker (INLINE_MAX_MACS=0), in both encodings', async () => {
      for (const c of cases) {
        const json = await post(route, c.request, onWorkers);
        assert.equal(json.statusCode, 200, `${c.name}: ${json.body.slice(0, 300)}`);
        checkAnswer(c, json.json(), 'json');
        const b64 = await post(route, withBase64Tensors(c.request), onWorkers);
        assert.equal(b64.statusCode, 200, `${c.name}: ${b64.body.slice(0, 300)}`);
        checkAnswer(c, b64.json(), 'base64');
      }
    });
    it("follows outputEncoding over the first tensor's encoding", async () => {
      const c = cases[0];
      const asB64 = await post(route, { ...c.request, outputEncoding: 'base64' });
      assert.equal(asB64.statusCode, 200, asB64.body.slice(0, 300));
      checkAnswer(c, asB64.json(), 'base64');
      const asJson = await post(route, { ...withBase64Tensors(c.request), outputEncoding: 'json' });
      assert.equal(asJson.statusCode, 200, asJson.body.slice(0, 300));
      checkAnswer(c, asJson.json(), 'json');
    });
  });
}

describe('tensor values', () => {
  it('carries NaN and the infinities through as strings in JSON and natively in base64', async () => {
    const body = {
      input: { shape: [1, 1, 1, 3], data: ['NaN', 'Infinity', 1] },
      weight: { shape: [1, 1, 1, 1], data: [-1] },
    };
    const res = await post('/v1/conv-transpose2d/forward', body);
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(res.json().output.data, ['NaN', '-Infinity', -1]);
    const b64 = await post('/v1/conv-transpose2d/forward', withBase64Tensors(body));
    const values = readTensor(b64.json().output);
    assert.ok(Number.isNaN(values[0]));
    assert.equal(values[1], -Infinity);
    assert.equal(values[2], -1);
  });

  it('treats null fields as absent and takes one integer for a pair', async () => {
    const base = {
      input: { shape: [1, 2, 2], data: [1, 2, 3, 4] },
      weight: { shape: [1, 1, 2, 2], data: [1, 1, 1, 1] },
    };
    const withNulls = await post('/v1/conv-transpose2d/forward', { ...base, bias: null, stride: 2, padding: null });
    const explicit = await post('/v1/conv-transpose2d/forward', { ...base, stride: [2, 2], padding: [0, 0] });
    assert.equal(withNulls.statusCode, 200, withNulls.body);
    assert.deepEqual(withNulls.json(), explicit.json());
    assert.deepEqual(withNulls.json().output.shape, [1, 4, 4]);
  });

  it('gives a body parsed off the event loop the same answer, to the bit, as its base64 twin', async () => {
    // Past the parse thread's threshold written out: doubles of every magnitude, -0 and the
    // spellings, copied by im2col (kernel 1) into the answer as they were read.
    const n = OFF_LOOP_BYTES / 8;
    // Magnitudes from float32's subnormals to 1e35 (within its range).
    const values = Array.from({ length: n }, (_, i) => (i % 97 === 0 ? -0 : Math.sin(i) * 10 ** ((i % 76) - 40)));
    const spelled = values.map((v, i) => (i % 101 === 5 ? 'NaN' : i % 103 === 7 ? '-Infinity' : v));
    for (const dtype of ['float64', 'float32'] as const) {
      const typed = dtype === 'float64' ? Float64Array.from(spelled, Number) : Float32Array.from(spelled, Number);
      const body = (input: object) => ({
        input: { shape: [1, 1, n], dtype, ...input },
        kernelSize: 1,
        outputEncoding: 'base64',
      });
      // JSON.stringify writes -0 as 0; this keeps the minus sign.
      const text = JSON.stringify(body({ data: spelled })).replace(/([[,])0(?=[,\]])/g, '$1-0');
      const json = await send(app, {
        method: 'POST',
        url: '/v1/im2col',
        payload: text,
        headers: { 'content-type': 'application/json' },
      });
      const b64 = await post('/v1/im2col', body({ b64: Buffer.from(typed.buffer).toString('base64') }));
      assert.equal(json.statusCode, 200, json.body.slice(0, 300));
      assert.equal(json.json().columns.b64, Buffer.from(typed.buffer).toString('base64'), dtype);
      assert.equal(json.json().columns.b64, b64.json().columns.b64, dtype);
    }
  });

  it('accepts 2.0 as the integer 2', async () => {
    const res = await post('/v1/im2col', { input: { shape: [1, 2.0, 1], data: [1, 2] }, kernelSize: [1.0, 1] });
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(res.json().columns.shape, [1, 2]);
  });
});

describe('a request large enough to be shared by the workers', () => {
  // conv-transpose2d forward, k4 s2 p1, 16x16 -> 32x32: a batch of 2 is shared by sample, one
  // sample by output channel; both are past twice SPLIT_MIN_MACS.
  const bodies = [
    {
      input: randomTensor([2, 64, 16, 16], 'float32', 1),
      weight: randomTensor([64, 32, 4, 4], 'float32', 2),
      bias: randomTensor([32], 'float32', 3),
      stride: 2,
      padding: 1,
    },
    {
      input: randomTensor([1, 64, 16, 16], 'float64', 4),
      weight: randomTensor([64, 48, 4, 4], 'float64', 5),
      bias: randomTensor([48], 'float64', 6),
      stride: 2,
      padding: 1,
    },
  ];

  it('answers byte for byte as one worker does, in base64 and in JSON', async (t) => {
    const one = await build(t, { workers: 1 });
    for (const body of bodies) {
      const [n, inC] = body.input.shape;
      assert.ok(n * inC * body.weight.shape[1] * 16 * 16 * 16 > 2 * SPLIT_MIN_MACS);
      for (const outputEncoding of ['base64', 'json']) {
        const payload = { ...withBase64Tensors(body), outputEncoding };
        const shared = await send(app, { method: 'POST', url: '/v1/conv-transpose2d/forward', payload });
        const whole = await send(one, { method: 'POST', url: '/v1/conv-transpose2d/forward', payload });
        assert.equal(shared.statusCode, 200, shared.body);
        assert.equal(shared.body, whole.body, `batch ${n}, ${outputEncoding}`);
      }
    }
  });
});

describe('request bodies on the wire', () => {
  it('are read whether they state their length or come chunked, in pieces of any size', async (t) => {
    const server = await build(t);
    await server.listen({ port: 0, host: '127.0.0.1' });
    const { port } = server.server.address() as AddressInfo;
    const body = JSON.stringify(
      withBase64Tensors({
        input: randomTensor([1, 4, 128, 128], 'float32', 7),
        weight: randomTensor([4, 3, 3, 3], 'float32', 8),
        padding: 1,
      }),
    );
    const want = (
      await send(server, {
        method: 'POST',
        url: '/v1/conv-transpose2d/forward',
        payload: body,
        headers: { 'content-type': 'application/json' },
      })
    ).body;
    for (const chunked of [false, true]) {
      const got = await new Promise<{ status: number; text: string }>((resolve, reject) => {
        const headers: Record<string, string | number> = { 'content-type': 'application/json' };
        if (!chunked) headers['content-length'] = Buffer.byteLength(body);
        const req = httpRequest(
          { host: '127.0.0.1', port, method: 'POST', path: '/v1/conv-transpose2d/forward', headers },
          (res) => {
            let text = '';
            res.setEncoding('utf8');
            res.on('data', (c: string) => (text += c));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
          },
        );
        req.on('error', reject);
        // Uneven pieces, so keys and the long base64 value (~350 KB) are cut at arbitrary bytes.
        for (let at = 0, n = 1; at < body.length; at += n, n = ((n * 7 + 3) % 9000) + 1)
          req.write(body.slice(at, at + n));
        req.end();
      });
      assert.equal(got.status, 200, got.text.slice(0, 200));
      assert.equal(got.text, want, chunked ? 'chunked' : 'with Content-Length');
    }
  });
});
