import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { MAX_PROBLEM_BYTES } from '../../src/problems.js';
import { fieldErrors, MAX_FIELD_ERRORS } from '../../src/request-validation.js';
import { OFF_LOOP_BYTES } from '../../src/tensor/off-loop-parse.js';
import { build } from '../helpers/build.js';
import { send } from '../helpers/http.js';

/**
 * Validation errors are bounded: however many fields a body gets wrong, the refusal lists the
 * first MAX_FIELD_ERRORS, echoes no input, and its document stays below MAX_PROBLEM_BYTES.
 */

const post = (url: string, text: string) => ({
  method: 'POST' as const,
  url,
  payload: text,
  headers: { 'content-type': 'application/json' },
});
const one = { shape: [1, 1, 1, 1], data: [1] };

/** A body with `n` unknown fields next to a valid conv2d. */
const unknownFields = (n: number) =>
  JSON.stringify({ input: one, weight: one, ...Object.fromEntries(Array.from({ length: n }, (_, i) => [`f${i}`, 0])) });

/** A conv2d whose input holds `n` values that are not numbers. */
const badValues = (n: number) =>
  JSON.stringify({ input: { shape: [1, 1, 1, n], data: new Array(n).fill('x') }, weight: one });

describe('fieldErrors', () => {
  it(`names at most ${MAX_FIELD_ERRORS} fields and counts them all`, () => {
    const schema = z.strictObject({ a: z.number(), b: z.array(z.number()) });
    const input = {
      a: 'x',
      b: new Array(50).fill('y'),
      ...Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`k${i}`, 1])),
    };
    const result = schema.safeParse(input);
    assert.equal(result.success, false);
    const { errors, total } = fieldErrors(result.error!.issues, input);
    assert.equal(errors.length, MAX_FIELD_ERRORS);
    assert.equal(total, 1 + 50 + 30);
    assert.deepEqual(errors[0], { path: 'a', message: 'Invalid input: expected number, received string' });
  });

  it('names the unknown keys that fit, in the order given', () => {
    const input = Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`k${i}`, 1]));
    const result = z.strictObject({}).safeParse(input);
    const { errors, total } = fieldErrors(result.error!.issues, input);
    assert.equal(total, 1000);
    assert.deepEqual(
      errors.map((e) => e.path),
      Array.from({ length: MAX_FIELD_ERRORS }, (_, i) => `k${i}`),
    );
  });

  it('says a missing field is required, and a null or mistyped one what it should be', () => {
    const schema = z.strictObject({
      a: z.strictObject({ b: z.number({ error: 'must be a number' }) }),
      c: z.string(),
      d: z.string(),
    });
    const input = { a: {}, c: null, d: 1 };
    const { errors } = fieldErrors(schema.safeParse(input).error!.issues, input);
    assert.deepEqual(errors, [
      { path: 'a.b', message: 'is required' },
      { path: 'c', message: 'Invalid input: expected string, received null' },
      { path: 'd', message: 'Invalid input: expected string, received number' },
    ]);
  });
});

describe('refusals of bodies with many errors', () => {
  let app: FastifyInstance;
  before(async () => (app = await build(null)));
  after(() => app.close());

  const checkDocument = (res: { statusCode: number; body: string; json(): any }) => {
    assert.equal(res.statusCode, 400);
    assert.ok(Buffer.byteLength(res.body) <= MAX_PROBLEM_BYTES, `a document of ${Buffer.byteLength(res.body)} bytes`);
    const doc = res.json();
    assert.ok(doc.errors.length <= MAX_FIELD_ERRORS);
    return doc;
  };

  it('list one error for a tensor of bad values, at the first one, parsed on the main thread or off it', async () => {
    for (const n of [1000, (2 * OFF_LOOP_BYTES) / 4]) {
      const text = badValues(n);
      const doc = checkDocument(await send(app, post('/v1/conv2d/forward', text)));
      assert.deepEqual(doc.errors, [
        { path: 'input.data[0]', message: 'must be a number or one of "NaN", "Infinity", "-Infinity"' },
      ]);
      assert.doesNotMatch(doc.detail, /more/);
    }
  });

  it('report a bad value after good ones at its index, off the main thread too', async () => {
    const data: unknown[] = new Array(OFF_LOOP_BYTES).fill(1);
    data[OFF_LOOP_BYTES - 3] = 'nan';
    const text = JSON.stringify({ input: { shape: [1, 1, 1, data.length], data }, weight: one });
    const doc = checkDocument(await send(app, post('/v1/conv2d/forward', text)));
    assert.deepEqual(
      doc.errors.map((e: { path: string }) => e.path),
      [`input.data[${OFF_LOOP_BYTES - 3}]`],
    );
  });

  it(`list ${MAX_FIELD_ERRORS} of 200,000 unknown fields and say how many more there are`, async () => {
    const doc = checkDocument(await send(app, post('/v1/conv2d/forward', unknownFields(200_000))));
    assert.equal(doc.errors.length, MAX_FIELD_ERRORS);
    assert.deepEqual(doc.errors[0], { path: 'f0', message: 'is not a known field' });
    assert.match(doc.detail, /\(and 199999 more\)/);
  });

  it('cut long field names, and keep the document under its size cap', async () => {
    const longKeys = JSON.stringify({
      input: one,
      weight: one,
      ...Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`${i}${'k'.repeat(50_000)}`, 0])),
    });
    const doc = checkDocument(await send(app, post('/v1/conv2d/forward', longKeys)));
    assert.equal(doc.errors.length, MAX_FIELD_ERRORS);
    for (const e of doc.errors) assert.ok(e.path.length <= 256);
  });

  it('answer /v2 with one bounded error for bad values and for unknown fields', async () => {
    const url = '/v2/models/conv2d/infer';
    const input = (extra: object) => ({ name: 'input', shape: [1, 1, 1, 1], datatype: 'FP32', data: [1], ...extra });
    const weight = { name: 'weight', shape: [1, 1, 1, 1], datatype: 'FP32', data: [1] };
    for (const n of [1000, (2 * OFF_LOOP_BYTES) / 4]) {
      const res = await send(
        app,
        post(url, JSON.stringify({ inputs: [input({ shape: [1, 1, 1, n], data: new Array(n).fill('x') }), weight] })),
      );
      assert.equal(res.statusCode, 400);
      assert.equal(
        res.json().error,
        'input.data: every value must be a number or one of "NaN", "Infinity", "-Infinity"',
      );
    }
    const many = Object.fromEntries(Array.from({ length: 200_000 }, (_, i) => [`f${i}`, 0]));
    const res = await send(app, post(url, JSON.stringify({ inputs: [input(many), weight] })));
    assert.equal(res.statusCode, 400);
    assert.ok(res.body.length < 2048, `an answer of ${res.body.length} characters`);
    assert.match(res.json().error, /inputs\[0\]\.f0.*\(and 199999 more\)/);
  });
});
