import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { build } from '../../helpers/build.js';
import { type HttpRequest, send } from '../../helpers/http.js';

/** Every failure class of docs/api.md, each with its status, problem type and offending field. */

const tensor = (shape: number[], extra: object = {}) => ({
  shape,
  data: new Array(shape.reduce((a, b) => a * b, 1)).fill(0.5),
  ...extra,
});
const convT = { input: tensor([1, 2, 3, 3]), weight: tensor([2, 3, 2, 2]) };
/** 128 x 128 float32 values: long enough for the body parser to decode them itself (src/tensor/json-body.ts). */
const LONG_B64 = Buffer.from(new Float32Array(128 * 128).fill(0.5).buffer).toString('base64');

interface Case {
  readonly name: string;
  readonly request: HttpRequest;
  readonly status: number;
  readonly type: string;
  /** A field path the problem's `errors` must name. */
  readonly path?: string;
  /** Text the problem's detail must contain. */
  readonly detail?: RegExp;
}

const post = (url: string, payload: unknown, headers: Record<string, string> = {}): HttpRequest => ({
  method: 'POST',
  url,
  payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
  headers: { 'content-type': 'application/json', ...headers },
});

const cases: Case[] = [
  { name: 'malformed JSON', request: post('/v1/conv2d/forward', '{"input": '), status: 400, type: 'invalid-request' },
  { name: 'an empty body', request: post('/v1/conv2d/forward', ''), status: 400, type: 'invalid-request' },
  {
    name: 'a body that is not an object',
    request: post('/v1/conv2d/forward', '[1, 2]'),
    status: 400,
    type: 'invalid-request',
  },
  {
    name: 'a missing field',
    request: post('/v1/conv-transpose2d/forward', { input: convT.input }),
    status: 400,
    type: 'invalid-request',
    path: 'weight',
  },
  {
    name: 'an unknown field (a typo)',
    request: post('/v1/conv-transpose2d/forward', { ...convT, strides: 2 }),
    status: 400,
    type: 'invalid-request',
    path: 'strides',
  },
  {
    name: 'an unknown tensor field',
    request: post('/v1/conv-transpose2d/forward', { ...convT, input: tensor([1, 2, 3, 3], { dtpye: 'float64' }) }),
    status: 400,
    type: 'invalid-request',
    path: 'input.dtpye',
  },
  {
    name: 'a wrong type',
    request: post('/v1/conv-transpose2d/forward', { ...convT, groups: 'two' }),
    status: 400,
    type: 'invalid-request',
    path: 'groups',
  },
  {
    name: 'a non-integer parameter',
    request: post('/v1/conv-transpose2d/forward', { ...convT, stride: 1.5 }),
    status: 400,
    type: 'invalid-request',
    path: 'stride',
  },
  {
    name: 'a pair of three',
    request: post('/v1/conv-transpose2d/forward', { ...convT, padding: [1, 1, 1] }),
    status: 400,
    type: 'invalid-request',
    path: 'padding',
  },
  {
    name: 'stride 0',
    request: post('/v1/conv-transpose2d/forward', { ...convT, stride: 0 }),
    status: 400,
    type: 'invalid-request',
    path: 'stride',
  },
  {
    name: 'negative padding',
    request: post('/v1/conv2d/forward', { ...convT, padding: [-1, 0] }),
    status: 400,
    type: 'invalid-request',
    path: 'padding[0]',
  },
  {
    name: 'an integer over 2^31-1',
    request: post('/v1/conv2d/forward', { ...convT, groups: 2 ** 31 }),
    status: 400,
    type: 'invalid-request',
    path: 'groups',
  },
  {
    name: 'a bad dtype',
    request: post('/v1/conv-transpose2d/forward', { ...convT, input: tensor([1, 2, 3, 3], { dtype: 'float16' }) }),
    status: 400,
    type: 'invalid-request',
    path: 'input.dtype',
  },
  {
    name: 'a zero dimension',
    request: post('/v1/conv-transpose2d/forward', { ...convT, input: { shape: [1, 2, 0, 3], data: [] } }),
    status: 400,
    type: 'invalid-request',
    path: 'input.shape[2]',
  },
  {
    name: 'data shorter than the shape',
    request: post('/v1/conv-transpose2d/forward', { ...convT, input: { shape: [1, 2, 3, 3], data: [1, 2] } }),
    status: 400,
    type: 'invalid-request',
    path: 'input.data',
    detail: /has 2 values but shape \[1, 2, 3, 3\] holds 18/,
  },
  {
    name: 'both data and b64',
    request: post('/v1/conv-transpose2d/forward', { ...convT, input: tensor([1, 2, 3, 3], { b64: '' }) }),
    status: 400,
    type: 'invalid-request',
    path: 'input.b64',
  },
  {
    name: 'neither data nor b64',
    request: post('/v1/conv-transpose2d/forward', { ...convT, input: { shape: [1, 2, 3, 3] } }),
    status: 400,
    type: 'invalid-request',
    path: 'input.data',
  },
  {
    name: 'a character outside the base64 alphabet',
    request: post('/v1/conv-transpose2d/forward', {
      ...convT,
      input: { shape: [1, 2, 1, 1], b64: 'AAAAAAAAA*A=' },
      weight: tensor([2, 1, 1, 1]),
    }),
    status: 400,
    type: 'invalid-request',
    path: 'input.b64',
  },
  {
    name: 'white space inside base64',
    request: post('/v1/conv-transpose2d/forward', {
      ...convT,
      input: { shape: [1, 2, 1, 1], b64: 'AAAA AAAAAA=' },
      weight: tensor([2, 1, 1, 1]),
    }),
    status: 400,
    type: 'invalid-request',
    path: 'input.b64',
  },
  {
    name: 'base64 with non-canonical padding bits',
    request: post('/v1/conv-transpose2d/forward', {
      ...convT,
      input: { shape: [1, 2, 1, 1], b64: 'AAAAAAAAAAB=' },
      weight: tensor([2, 1, 1, 1]),
    }),
    status: 400,
    type: 'invalid-request',
    path: 'input.b64',
  },
  {
    name: 'base64 whose length is not a multiple of 4',
    request: post('/v1/conv-transpose2d/forward', { ...convT, input: { shape: [1], b64: 'AAA' } }),
    status: 400,
    type: 'invalid-request',
    path: 'input.b64',
  },
  {
    name: 'base64 of the wrong length',
    request: post('/v1/conv-transpose2d/forward', { ...convT, input: { shape: [2], b64: 'AAAAAA==' } }),
    status: 400,
    type: 'invalid-request',
    path: 'input.b64',
  },
  {
    name: 'a number that is not a finite float32',
    request: post('/v1/conv-transpose2d/forward', { ...convT, input: { shape: [1, 2, 1, 1], data: [1, 1e39] } }),
    status: 400,
    type: 'invalid-request',
    path: 'input.data[1]',
  },
  {
    name: 'a string that is not NaN or an infinity',
    request: post('/v1/conv-transpose2d/forward', { ...convT, input: { shape: [1, 2, 1, 1], data: [1, 'nan'] } }),
    status: 400,
    type: 'invalid-request',
    path: 'input.data[1]',
  },
  {
    name: 'a tensor of rank 5',
    request: post('/v1/conv-transpose2d/forward', { ...convT, input: tensor([1, 1, 2, 3, 3]) }),
    status: 400,
    type: 'invalid-request',
    path: 'input.shape',
  },
  {
    name: 'a 2-D input',
    request: post('/v1/conv-transpose2d/forward', { ...convT, input: tensor([2, 9]) }),
    status: 400,
    type: 'invalid-request',
    path: 'input.shape',
  },
  {
    name: 'a __proto__ key',
    request: post('/v1/conv2d/forward', '{"input": {"shape": [1], "data": [1]}, "__proto__": {"x": 1}}'),
    status: 400,
    type: 'invalid-request',
    detail: /valid JSON, but it has a key "__proto__"/,
  },
  {
    name: 'a __proto__ key beside long base64',
    request: post(
      '/v1/conv2d/forward',
      `{"input": {"shape": [1, 1, 128, 128], "b64": "${LONG_B64}"}, "__proto__": {"x": 1}}`,
    ),
    status: 400,
    type: 'invalid-request',
    detail: /valid JSON, but it has a key "__proto__"/,
  },
  {
    name: 'an escaped __proto__ key',
    request: post('/v1/conv2d/forward', '{"\\u005f_proto__": {"x": 1}}'),
    status: 400,
    type: 'invalid-request',
    detail: /key "__proto__"/,
  },
  {
    name: 'malformed JSON with a __proto__ key',
    request: post('/v1/conv2d/forward', '{"__proto__": {"x": 1}'),
    status: 400,
    type: 'invalid-request',
    detail: /not valid JSON/,
  },
  {
    name: 'long base64 with a character outside the alphabet',
    request: post('/v1/conv2d/forward', {
      input: { shape: [1, 1, 128, 128], b64: `*${LONG_B64.slice(1)}` },
      weight: tensor([1, 1, 1, 1]),
    }),
    status: 400,
    type: 'invalid-request',
    path: 'input.b64',
  },
  {
    name: 'long base64 of the right length padded for another byte count',
    request: post('/v1/conv2d/forward', {
      input: { shape: [1, 1, 128, 128], b64: Buffer.alloc(65537, 1).toString('base64') },
      weight: tensor([1, 1, 1, 1]),
    }),
    status: 400,
    type: 'invalid-request',
    path: 'input.b64',
    detail: /canonical base64 of 65536 bytes/,
  },
  {
    name: 'short base64 of the right length padded for another byte count',
    request: post('/v1/conv2d/forward', {
      input: { shape: [1, 1, 1, 1], b64: 'AAAAAAA=' },
      weight: tensor([1, 1, 1, 1]),
    }),
    status: 400,
    type: 'invalid-request',
    path: 'input.b64',
    detail: /canonical base64 of 4 bytes/,
  },
  {
    name: 'long base64 beside a field nested 100,000 deep',
    request: post(
      '/v1/conv2d/forward',
      `{"input": {"shape": [1, 1, 128, 128], "b64": "${LONG_B64}"}, "x": ${'['.repeat(100_000)}${']'.repeat(100_000)}}`,
    ),
    status: 400,
    type: 'invalid-request',
    path: 'x',
  },
  {
    name: 'malformed JSON after long base64',
    request: post('/v1/conv2d/forward', `{"input": {"shape": [1, 1, 128, 128], "b64": "${LONG_B64}"}} x`),
    status: 400,
    type: 'invalid-request',
  },
  {
    name: 'a constructor.prototype key',
    request: post('/v1/conv2d/forward', '{"constructor": {"prototype": {"x": 1}}}'),
    status: 400,
    type: 'invalid-request',
    detail: /key "constructor" holding a "prototype"/,
  },
  {
    name: 'a channel mismatch',
    request: post('/v1/conv-transpose2d/forward', { ...convT, weight: tensor([3, 3, 2, 2]) }),
    status: 422,
    type: 'inconsistent-request',
    path: 'input.shape[1]',
  },
  {
    name: 'groups that do not divide the channels',
    request: post('/v1/conv-transpose2d/forward', { ...convT, groups: 3 }),
    status: 422,
    type: 'inconsistent-request',
    path: 'groups',
  },
  {
    name: 'outputPadding not below stride or dilation',
    request: post('/v1/conv-transpose2d/forward', { ...convT, stride: 2, outputPadding: 2 }),
    status: 422,
    type: 'inconsistent-request',
    path: 'outputPadding[0]',
  },
  {
    name: 'an output size below 1',
    request: post('/v1/conv2d/forward', { input: tensor([1, 1, 2, 2]), weight: tensor([1, 1, 3, 3]) }),
    status: 422,
    type: 'inconsistent-request',
  },
  {
    name: 'mixed dtypes',
    request: post('/v1/conv-transpose2d/forward', { ...convT, weight: tensor([2, 3, 2, 2], { dtype: 'float64' }) }),
    status: 422,
    type: 'inconsistent-request',
    path: 'weight.dtype',
  },
  {
    name: 'a non-whole transposed grad-input size',
    request: post('/v1/conv-transpose2d/grad-input', {
      gradOutput: tensor([1, 3, 5, 5]),
      weight: tensor([2, 3, 2, 2]),
      stride: 2,
    }),
    status: 422,
    type: 'inconsistent-request',
  },
  {
    name: 'gradBias with computeBias false',
    request: post('/v1/conv2d/grad-parameters', {
      input: tensor([1, 1, 3, 3]),
      gradOutput: tensor([1, 1, 2, 2]),
      kernelSize: 2,
      gradBias: tensor([1]),
      computeBias: false,
    }),
    status: 422,
    type: 'inconsistent-request',
    path: 'gradBias',
  },
  {
    name: 'grad-parameters without kernelSize or gradWeight',
    request: post('/v1/conv2d/grad-parameters', { input: tensor([1, 1, 3, 3]), gradOutput: tensor([1, 1, 2, 2]) }),
    status: 400,
    type: 'invalid-request',
    path: 'kernelSize',
  },
  {
    name: 'a result over MAX_ELEMENTS from a tiny input (stride 1000000)',
    request: post('/v1/conv-transpose2d/forward', {
      input: tensor([1, 1, 2, 2]),
      weight: tensor([1, 1, 1, 1]),
      stride: 1000000,
    }),
    status: 413,
    type: 'too-large',
    path: 'output',
  },
  {
    name: 'a text/plain body',
    request: { method: 'POST', url: '/v1/conv2d/forward', payload: '{}', headers: { 'content-type': 'text/plain' } },
    status: 415,
    type: 'unsupported-media-type',
  },
  {
    name: 'a form body',
    request: {
      method: 'POST',
      url: '/v1/conv2d/forward',
      payload: 'a=1',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    },
    status: 415,
    type: 'unsupported-media-type',
  },
  {
    name: 'a URL that cannot be decoded',
    request: post('/v1/%', { input: tensor([1]) }),
    status: 400,
    type: 'invalid-request',
  },
  { name: 'an unknown route', request: { method: 'GET', url: '/v1/nope' }, status: 404, type: 'not-found' },
  { name: 'GET on an op route', request: { method: 'GET', url: '/v1/conv2d/forward' }, status: 404, type: 'not-found' },
];

describe('problem documents', () => {
  let app: FastifyInstance;
  before(async () => {
    app = await build(null);
  });
  after(() => app.close());

  for (const c of cases) {
    it(`${c.name}: ${c.status} ${c.type}${c.path ? ` at ${c.path}` : ''}`, async () => {
      const res = await send(app, c.request);
      assert.equal(res.statusCode, c.status, res.body);
      assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
      const doc = res.json();
      assert.equal(doc.type, `/problems/${c.type}`);
      assert.equal(doc.status, c.status);
      assert.equal(typeof doc.title, 'string');
      assert.equal(typeof doc.detail, 'string');
      assert.ok(doc.detail.length > 0);
      assert.equal(doc.requestId, res.headers['x-request-id']);
      assert.doesNotMatch(res.body, /\bat .+\.(js|ts):\d+/, 'no stack trace');
      if (c.path !== undefined) {
        assert.ok(Array.isArray(doc.errors), 'errors listed');
        assert.ok(
          doc.errors.some((e: { path: string }) => e.path === c.path),
          `errors name ${c.path}: ${JSON.stringify(doc.errors)}`,
        );
      }
      if (c.detail) assert.match(doc.detail, c.detail);
    });
  }
});

describe('size limits', () => {
  it('gives 413 to a body over MAX_BODY_BYTES', async (t) => {
    const app = await build(t, { maxBodyBytes: 2048 });
    const res = await send(
      app,
      post('/v1/conv2d/forward', { input: tensor([1, 1, 30, 30]), weight: tensor([1, 1, 1, 1]) }),
    );
    assert.equal(res.statusCode, 413);
    assert.equal(res.json().type, '/problems/too-large');
  });

  it('gives 413 to an input over MAX_ELEMENTS, naming it', async (t) => {
    const app = await build(t, { maxElements: 100 });
    const res = await send(
      app,
      post('/v1/conv2d/forward', { input: tensor([1, 1, 11, 11]), weight: tensor([1, 1, 1, 1]) }),
    );
    assert.equal(res.statusCode, 413);
    assert.ok(
      res.json().errors.some((e: { path: string }) => e.path === 'input'),
      res.body,
    );
  });

  it('gives 413 to a request whose cost is over MAX_MACS', async (t) => {
    const app = await build(t, { maxMacs: 1000 });
    const res = await send(
      app,
      post('/v1/conv2d/forward', { input: tensor([1, 4, 8, 8]), weight: tensor([4, 4, 3, 3]) }),
    );
    assert.equal(res.statusCode, 413, res.body);
    assert.equal(res.json().type, '/problems/too-large');
  });
});

describe('the log line of a refusal', () => {
  it('records the status the refusal is sent with', async (t) => {
    const lines: Record<string, unknown>[] = [];
    const stream = { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) };
    const app = await build(
      t,
      { apiKeys: ['a-key-of-32-characters-or-more-00'] },
      { logger: { level: 'info', stream } },
    );
    const res = await send(app, post('/v1/conv2d/forward', convT));
    assert.equal(res.statusCode, 401);
    const refused = lines.filter((l) => l.msg === 'request refused');
    assert.equal(refused.length, 1, JSON.stringify(lines));
    assert.equal(refused[0].status, 401);
  });
});

describe('request ids', () => {
  it("keeps a caller's x-request-id and makes one otherwise", async (t) => {
    const app = await build(t);
    const given = await send(app, { method: 'GET', url: '/nope', headers: { 'x-request-id': 'caller-42' } });
    assert.equal(given.headers['x-request-id'], 'caller-42');
    assert.equal(given.json().requestId, 'caller-42');
    const made = await send(app, { method: 'GET', url: '/nope', headers: { 'x-request-id': 'not ok <script>' } });
    assert.match(String(made.headers['x-request-id']), /^[0-9a-f-]{36}$/);
  });
});

describe('problem types', () => {
  it('describes each problem type at its URI', async (t) => {
    const app = await build(t);
    const res = await send(app, { method: 'GET', url: '/problems/inconsistent-request' });
    assert.equal(res.statusCode, 200);
    assert.equal(res.json().status, 422);
    const unknown = await send(app, { method: 'GET', url: '/problems/nope' });
    assert.equal(unknown.statusCode, 404);
  });
});
