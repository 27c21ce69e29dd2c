import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import { denseJsonExtra } from '../../../src/memory-model.js';
import { ProblemError } from '../../../src/problems.js';
import { RequestValidationError } from '../../../src/request-validation.js';
import { PackedData } from '../../../src/schemas/tensor-data.js';
import type { ParsedJson } from '../../../src/tensor/json-body.js';
import { JsonBodyParser, OFF_LOOP_BYTES } from '../../../src/tensor/off-loop-parse.js';
import { countTurns } from '../../helpers/faults.js';

const v1 = new JsonBodyParser('v1');
const v2 = new JsonBodyParser('v2');
after(() => Promise.all([v1.close(), v2.close()]));

/** Parses `body`, and says whether `done` came before `parse` returned (the body was parsed on the event loop). */
function parse(
  parser: JsonBodyParser,
  body: Buffer,
  op?: string,
  charge?: (extraBytes: number) => void,
): { sync: boolean; result: Promise<ParsedJson> } {
  let sync = false;
  let returned = false;
  const result = new Promise<ParsedJson>((resolve, reject) => {
    parser.parse(
      body,
      (err, parsed) => {
        sync = !returned;
        if (err) reject(err);
        else resolve(parsed!);
      },
      op,
      charge,
    );
  });
  returned = true;
  return { sync, result };
}

const SPELLED: Readonly<Record<string, number>> = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity };
/** An array of `n` values past the off-loop threshold once written out. */
const manyValues = (n = OFF_LOOP_BYTES / 2) => Array.from({ length: n }, (_, i) => (i % 7) / 8);

describe('JsonBodyParser', () => {
  it('parses a small body at once, on the event loop, as JSON.parse does', async () => {
    const text = JSON.stringify({
      input: { shape: [1, 1, 1, 3], data: [1, 'NaN', 2.5] },
      weight: { shape: [1, 1, 1, 1], data: [1] },
    });
    const { sync, result } = parse(v1, Buffer.from(text), 'conv2d/forward');
    assert.equal(sync, true);
    assert.deepEqual((await result).value, JSON.parse(text));
  });

  it(`parses a body of ${OFF_LOOP_BYTES} bytes or more off the event loop, its tensor data read into doubles`, async () => {
    const data = [...manyValues(), 'NaN', '-Infinity', 'Infinity', -0];
    // JSON.stringify writes -0 as 0: the last value is written by hand.
    const text = JSON.stringify({
      input: { shape: [1, 1, 1, data.length], data: data.slice(0, -1) },
      weight: { shape: [1, 1, 1, 1], data: [2] },
      stride: 1,
    }).replace('"Infinity"]', '"Infinity",-0]');
    const { sync, result } = parse(v1, Buffer.from(text), 'conv2d/forward');
    assert.equal(sync, false);
    const { value } = (await result) as { value: Record<string, { data: unknown }> };
    const input = value.input.data as PackedData;
    assert.ok(input instanceof PackedData);
    assert.equal(input.firstBad, -1);
    assert.deepEqual(
      [...input.values],
      data.map((v) => (typeof v === 'string' ? SPELLED[v] : v)),
    );
    assert.ok(Object.is(input.values[data.length - 1], -0));
    assert.deepEqual([...(value.weight.data as PackedData).values], [2]);
    assert.equal((value as unknown as { stride: number }).stride, 1);
  });

  it("keeps a body's long base64 out of the count: such a body stays on the event loop", () => {
    const b64 = Buffer.alloc(OFF_LOOP_BYTES * 2).toString('base64');
    assert.equal(
      JsonBodyParser.offLoop(Buffer.from(JSON.stringify({ input: { shape: [OFF_LOOP_BYTES / 2], b64 } }))),
      false,
    );
    assert.equal(
      JsonBodyParser.offLoop(Buffer.from(JSON.stringify({ input: { shape: [1], data: manyValues() } }))),
      true,
    );
  });

  it('decodes the long base64 of a body it parses on the event loop a piece per turn, letting other work through', async () => {
    const b64 = Buffer.alloc(6 * 2 ** 20, 7).toString('base64');
    const body = Buffer.from(JSON.stringify({ input: { shape: [1, 1, 1, 2 ** 20], b64 }, weight: { shape: [1] } }));
    assert.equal(JsonBodyParser.offLoop(body), false);
    const turnsSoFar = countTurns();
    const { sync, result } = parse(v1, body, 'conv2d/forward');
    const { value, decoded } = await result;
    const turns = turnsSoFar();
    assert.equal(sync, false);
    assert.ok(turns >= 7, `other work ran ${turns} times while 8 pieces were decoded`);
    assert.equal((value as { input: { b64: string } }).input.b64, b64);
    assert.deepEqual(decoded!.take(b64), Buffer.alloc(6 * 2 ** 20, 7));
  });

  it('decodes the long base64 of a body it parses off the event loop, as on it', async () => {
    const b64 = Buffer.from(Float32Array.from({ length: 2 ** 16 }, (_, i) => i / 3).buffer).toString('base64');
    const text = JSON.stringify({
      input: { shape: [1, 1, 1, OFF_LOOP_BYTES / 2], data: manyValues() },
      weight: { shape: [1, 1, 256, 256], b64 },
    });
    const { sync, result } = parse(v1, Buffer.from(text), 'conv2d/forward');
    assert.equal(sync, false);
    const { value, decoded } = await result;
    assert.equal((value as { weight: { b64: string } }).weight.b64, b64);
    const bytes = decoded!.take(b64)!;
    assert.deepEqual(bytes, Buffer.from(b64, 'base64'));
    assert.equal(bytes.buffer.byteLength, bytes.length, 'a buffer of its own, to move to a kernel thread');
  });

  it('gives exactly the doubles JSON.parse gives, however the numbers are written (fast-check)', async () => {
    const number = fc.oneof(
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.integer(),
      fc.tuple(fc.integer({ min: -999, max: 999 }), fc.integer({ min: -330, max: 330 })).map(([m, e]) => `${m}e${e}`),
      fc
        .tuple(fc.nat(99), fc.nat(9999), fc.integer({ min: -20, max: 20 }))
        .map(([a, b, e]) => `${a}.${String(b).padStart(4, '0')}E${e >= 0 ? '+' : ''}${e}`),
    );
    const element = fc.oneof(
      { weight: 8, arbitrary: number },
      { weight: 1, arbitrary: fc.constantFrom('"NaN"', '"Infinity"', '"-Infinity"') },
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(element, { minLength: 1, maxLength: 200 }),
        fc.constantFrom(',', ', ', ',\n\t'),
        async (elements, comma) => {
          const written = elements.map(String);
          // Repeated past the threshold, so the parse thread reads them.
          const all = Array.from(
            { length: Math.ceil(OFF_LOOP_BYTES / written.join(comma).length) + 1 },
            () => written,
          ).flat();
          const text = `{"input": {"shape": [${all.length}], "data": [${all.join(comma)}]}}`;
          const expected = (JSON.parse(text) as { input: { data: unknown[] } }).input.data.map(
            (v) => (typeof v === 'string' ? SPELLED[v] : v) as number,
          );
          const { value } = await parse(v1, Buffer.from(text)).result;
          const got = (value as { input: { data: PackedData } }).input.data.values;
          assert.equal(got.length, expected.length);
          for (let i = 0; i < got.length; i++)
            if (!Object.is(got[i], expected[i])) assert.fail(`element ${i}: ${got[i]} is not ${expected[i]}`);
        },
      ),
      { numRuns: 25 },
    );
  });

  it("refuses a large body that breaks its route's schema with the field errors alone", async () => {
    const data: unknown[] = manyValues();
    data[1000] = 'x';
    const text = JSON.stringify({
      input: { shape: [1, 1, 1, data.length], data },
      weight: { shape: [1, 1, 1, 1], data: [1] },
      junk: 1,
    });
    await assert.rejects(parse(v1, Buffer.from(text), 'conv2d/forward').result, (err: unknown) => {
      assert.ok(err instanceof RequestValidationError);
      assert.deepEqual(
        err.errors.map((e) => e.path),
        ['input.data[1000]', 'junk'],
      );
      return true;
    });
  });

  it('refuses a large body with a forbidden key in words that say so, and bad JSON as Fastify does', async () => {
    const big = JSON.stringify(manyValues());
    await assert.rejects(
      parse(v1, Buffer.from(`{"a": ${big}, "__proto__": {"x": 1}}`)).result,
      (err: unknown) => err instanceof ProblemError && /key "__proto__"/.test(err.detail),
    );
    await assert.rejects(
      parse(v1, Buffer.from(`{"a": ${big}, "b": {"constructor": {"prototype": 1}}}`)).result,
      (err: unknown) => err instanceof ProblemError && /"constructor" holding a "prototype"/.test(err.detail),
    );
    await assert.rejects(parse(v1, Buffer.from(`{"a": ${big}`)).result, {
      code: 'FST_ERR_CTP_INVALID_JSON_BODY',
      statusCode: 400,
    });
  });

  it('refuses unparsed, in words that say so, a large body of more arrays and objects than its charge covers', async () => {
    // 4 MB of `{},`: ~140 MB once parsed, 36 times its size, where its charge is 6 times.
    const crowded = Buffer.from(`{"input":{"shape":[1,1,2],"data":[${'{},'.repeat(1_400_000)}{}]},"kernelSize":1}`);
    assert.equal(JsonBodyParser.offLoop(crowded), true);
    await assert.rejects(
      parse(v1, crowded, 'im2col').result,
      (err: unknown) =>
        err instanceof ProblemError &&
        err.slug === 'invalid-request' &&
        /has more than \d+ arrays and objects in \d+ bytes, which would take over 6 times its size once parsed/.test(
          err.detail,
        ),
    );
  });

  it('tells its charge, before parsing a large body, what the parse will hold beyond the per-byte charge', async () => {
    const values = 2 ** 20;
    const zeros = Buffer.from(
      `{"input":{"shape":[1,1,1,${values}],"data":[${'0,'.repeat(values - 1)}0]},"kernelSize":1}`,
    );
    assert.equal(JsonBodyParser.offLoop(zeros), true);
    // Its commas, and one; counted before the body moves to the parse thread.
    const bytes = zeros.length;
    const expected = denseJsonExtra(bytes, zeros.toString('latin1').split(',').length);
    const told: number[] = [];
    const { value } = await parse(v1, zeros, 'im2col', (extra) => told.push(extra)).result;
    assert.deepEqual(told, [expected]);
    assert.ok(told[0] > 5 * bytes, 'two bytes a value hold over 11 times their size, where 6 are charged');
    assert.equal((value as { input: { data: PackedData } }).input.data.values.length, values);

    const data = manyValues().map((v) => v + 1e-9);
    const ordinary = Buffer.from(JSON.stringify({ input: { shape: [1, 1, 1, data.length], data }, kernelSize: 1 }));
    const extras: number[] = [];
    await parse(v1, ordinary, 'im2col', (extra) => extras.push(extra)).result;
    assert.deepEqual(extras, [0], 'numbers of ordinary length hold no more than they are charged');
  });

  it("fails a large body with its charge's refusal, unparsed, and counts no small one", async () => {
    const zeros = Buffer.from(`{"input":{"shape":[1],"data":[${'0,'.repeat(OFF_LOOP_BYTES)}0]}}`);
    const refusal = new ProblemError('unavailable', 'the memory budget is taken');
    await assert.rejects(
      parse(v1, zeros, 'im2col', () => {
        throw refusal;
      }).result,
      (err: unknown) => err === refusal,
    );
    assert.ok(zeros.buffer.byteLength > 0, 'not moved to the parse thread');

    let told = false;
    const small = parse(v1, Buffer.from('{"input":{"shape":[1],"data":[0,0,0]}}'), 'im2col', () => {
      told = true;
    });
    assert.equal(small.sync, true);
    await small.result;
    assert.equal(told, false);
  });

  it('reads /v2 data nested by dimension, four levels at most, and marks its first bad value', async () => {
    const rows = Array.from({ length: OFF_LOOP_BYTES / 16 }, (_, i) => [
      [
        [i, 'NaN'],
        [0.5, 1],
      ],
    ]);
    const text = JSON.stringify({
      inputs: [{ name: 'input', shape: [rows.length, 1, 2, 2], datatype: 'FP64', data: rows }],
    });
    const { value } = await parse(v2, Buffer.from(text)).result;
    const packed = (value as { inputs: { data: PackedData }[] }).inputs[0].data;
    assert.equal(packed.firstBad, -1);
    assert.deepEqual([...packed.values.subarray(0, 8)], [0, NaN, 0.5, 1, 1, NaN, 0.5, 1]);

    const tooDeep = JSON.stringify({
      inputs: [{ name: 'input', shape: [1], datatype: 'FP64', data: [...manyValues(), [[[[1]]]]] }],
    });
    const deep = (await parse(v2, Buffer.from(tooDeep)).result).value as { inputs: { data: PackedData }[] };
    assert.equal(deep.inputs[0].data.firstBad, OFF_LOOP_BYTES / 2);
  });

  it('moves a body that owns its memory to the parse thread, and copies a slice of a larger one', async () => {
    const text = JSON.stringify({ inputs: [{ name: 'input', shape: [1], datatype: 'FP32', data: manyValues() }] });
    const owned = Buffer.from(new Uint8Array(Buffer.from(text)).buffer);
    await parse(v2, owned).result;
    assert.equal(owned.buffer.byteLength, 0);

    const framed = Buffer.concat([Buffer.from(text), Buffer.alloc(16, 7)]);
    await parse(v2, framed.subarray(0, text.length)).result;
    assert.deepEqual(framed.subarray(text.length), Buffer.alloc(16, 7));
  });
});
