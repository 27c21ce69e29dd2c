/**
 * The native addon's boundary (native/convsvc_blas.c): whatever JavaScript hands it, a call
 * either computes inside the arrays it was given or throws a TypeError / RangeError before it
 * reads or writes anything. Valid calls are spread over random shapes; each is then broken in
 * one argument, by a random hostile value, and must throw and leave every array as it was.
 * A crash (out-of-bounds write, BLAS abort) would end this process and fail the file.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { loadNative, type NativeBlas } from '../../workers/gemm/native-gemm.js';
import type { FloatArray } from '../../workers/geometry.js';
import { col2im as col2imTs } from '../../workers/kernels/col2im.js';
import { im2col as im2colTs } from '../../workers/kernels/im2col.js';
import { columnsLength, imageLength, type SampleColumns } from '../../workers/kernels/sample-columns.js';
import { columnsGeometries, seeded } from '../workers/helpers/arbitraries.js';
import { random } from '../workers/helpers/tensors.js';

const { blas, why } = loadNative();

/** Values no whole-number argument (dimension, offset, leading dimension, grid field) accepts. */
const badWholeNumbers = fc.constantFrom<unknown>(
  -1,
  -(2 ** 31),
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  1.5,
  -0.5,
  2 ** 31,
  2 ** 53,
  2 ** 64,
  1e300,
  '3',
  '',
  null,
  undefined,
  true,
  {},
  [],
  3n,
);
/** Values no boolean (transpose flag) accepts. */
const badBooleans = fc.constantFrom<unknown>(0, 1, 'true', null, undefined, {}, Number.NaN);
/** Values no alpha / beta accepts. */
const badNumbers = fc.constantFrom<unknown>('1', null, undefined, {}, [], 1n, true);
/** Arrays of the wrong kind for a float32 call: everything but a Float32Array. */
const badArrays = (length: number) =>
  fc.constantFrom<unknown>(
    new Float64Array(length),
    new Int32Array(length),
    new Uint8Array(length * 4),
    new Float32Array(length).buffer,
    new DataView(new ArrayBuffer(length * 4)),
    Array.from({ length }, () => 0),
    null,
    undefined,
    7,
    'abc',
  );

type Kind = 'whole' | 'bool' | 'number' | 'array';

/** Calls fn with args[i] replaced; it must throw a TypeError or RangeError and change no array. */
function mustRefuse(fn: (...args: unknown[]) => void, args: readonly unknown[], i: number, value: unknown): void {
  const broken = [...args];
  broken[i] = value;
  const arrays = args.filter((a): a is FloatArray => a instanceof Float32Array || a instanceof Float64Array);
  const before = arrays.map((a) => a.slice());
  assert.throws(
    () => fn(...broken),
    (err: unknown) => err instanceof TypeError || err instanceof RangeError,
    `argument ${i} = ${typeof value === 'bigint' ? `${value}n` : String(value)}`,
  );
  for (const [j, a] of arrays.entries()) assert.deepEqual(a, before[j], `array ${j} unchanged`);
}

/** A hostile value for an argument of this kind (array: length `length` of the right kind is valid). */
const hostile = (kind: Kind, length: number) =>
  kind === 'whole'
    ? badWholeNumbers
    : kind === 'bool'
      ? badBooleans
      : kind === 'number'
        ? badNumbers
        : badArrays(length);

/** A valid sgemm call on exactly-sized arrays (offset + span == length): the tightest fit passes. */
const gemmCalls = fc
  .record({
    transA: fc.boolean(),
    transB: fc.boolean(),
    m: fc.integer({ min: 1, max: 9 }),
    n: fc.integer({ min: 1, max: 9 }),
    k: fc.integer({ min: 1, max: 9 }),
    aOffset: fc.integer({ min: 0, max: 3 }),
    bOffset: fc.integer({ min: 0, max: 3 }),
    cOffset: fc.integer({ min: 0, max: 3 }),
    aPad: fc.integer({ min: 0, max: 2 }),
    bPad: fc.integer({ min: 0, max: 2 }),
    cPad: fc.integer({ min: 0, max: 2 }),
  })
  .map((l) => {
    const [aRows, aCols] = l.transA ? [l.k, l.m] : [l.m, l.k];
    const [bRows, bCols] = l.transB ? [l.n, l.k] : [l.k, l.n];
    const lda = aCols + l.aPad,
      ldb = bCols + l.bPad,
      ldc = l.n + l.cPad;
    const a = random('float32', l.aOffset + (aRows - 1) * lda + aCols, 1);
    const b = random('float32', l.bOffset + (bRows - 1) * ldb + bCols, 2);
    const c = random('float32', l.cOffset + (l.m - 1) * ldc + l.n, 3);
    return {
      ...l,
      aRows,
      aCols,
      bRows,
      bCols,
      lda,
      ldb,
      ldc,
      a,
      b,
      c,
      args: [
        l.transA,
        l.transB,
        l.m,
        l.n,
        l.k,
        0.5,
        a,
        l.aOffset,
        lda,
        b,
        l.bOffset,
        ldb,
        2,
        c,
        l.cOffset,
        ldc,
      ] as const,
    };
  });

const GEMM_KINDS: Kind[] = [
  'bool',
  'bool',
  'whole',
  'whole',
  'whole',
  'number',
  'array',
  'whole',
  'whole',
  'array',
  'whole',
  'whole',
  'number',
  'array',
  'whole',
  'whole',
];

const gridArgs = (g: SampleColumns) => [
  g.channels,
  g.height,
  g.width,
  g.kH,
  g.kW,
  g.sH,
  g.sW,
  g.pH,
  g.pW,
  g.dH,
  g.dW,
  g.colH,
  g.colW,
];

describe('the native addon', { skip: blas === null ? `not offered here: ${why}` : false }, () => {
  const b = blas as NativeBlas;
  const call =
    (name: keyof NativeBlas) =>
    (...args: unknown[]) =>
      (b[name] as (...a: unknown[]) => void)(...args);

  it('computes sgemm on arrays exactly as long as the blocks need', () => {
    fc.assert(
      fc.property(gemmCalls, (c) => {
        b.sgemm(...c.args);
      }),
      seeded(100),
    );
  });

  it('refuses any one argument of sgemm / dgemm replaced by a value of the wrong type or out of range', () => {
    fc.assert(
      fc.property(gemmCalls, fc.nat(), fc.nat(), (c, pick, seed) => {
        const i = pick % GEMM_KINDS.length;
        const value = fc.sample(hostile(GEMM_KINDS[i], 8), { seed, numRuns: 1 })[0];
        mustRefuse(call('sgemm'), c.args, i, value);
      }),
      seeded(400),
    );
  });

  it("refuses an offset that puts any block past its array's end, by one element or by far", () => {
    fc.assert(
      fc.property(gemmCalls, fc.constantFrom(7, 10, 14), fc.constantFrom(1, 2, 1000, 2 ** 31 - 1), (c, i, past) => {
        mustRefuse(call('sgemm'), c.args, i, (c.args[i] as number) + past);
      }),
      seeded(150),
    );
  });

  it('refuses a leading dimension shorter than the stored row', () => {
    fc.assert(
      fc.property(gemmCalls, fc.constantFrom(8, 11, 15), fc.integer({ min: 1, max: 3 }), (c, i, short) => {
        const row = i === 8 ? c.aCols : i === 11 ? c.bCols : c.n;
        mustRefuse(call('sgemm'), c.args, i, Math.max(0, row - short));
      }),
      seeded(150),
    );
  });

  it('refuses arrays one element too short, and arrays of the other float type', () => {
    fc.assert(
      fc.property(gemmCalls, fc.constantFrom(6, 9, 13), (c, i) => {
        const array = c.args[i] as Float32Array;
        mustRefuse(call('sgemm'), c.args, i, array.subarray(0, array.length - 1));
        mustRefuse(call('dgemm'), c.args, i, Float64Array.from(array));
      }),
      seeded(100),
    );
  });

  it('refuses a wrong number of arguments', () => {
    for (const name of ['sgemm', 'dgemm', 'im2col', 'col2im', 'gemmCol2im', 'im2colGemm'] as const) {
      assert.throws(() => call(name)(), TypeError, name);
      assert.throws(() => call(name)(...Array.from({ length: 40 }, () => 1)), TypeError, name);
    }
  });

  /** A grid with its image and columns, both exactly long enough. */
  const columnCases = fc.tuple(columnsGeometries(true), fc.integer({ min: 0, max: 3 })).map(([g, offset]) => ({
    g,
    offset,
    image: random('float32', offset + imageLength(g), 4),
    columns: random('float32', columnsLength(g), 5),
  }));

  it('im2col / col2im equal im2col.ts / col2im.ts to the bit', () => {
    fc.assert(
      fc.property(columnCases, ({ g, offset, image, columns }) => {
        const want = new Float32Array(columns.length);
        im2colTs(g, image, offset, want, 0);
        call('im2col')(...gridArgs(g), image, offset, columns, 0);
        assert.deepEqual(columns, want);
        const folded = image.slice(),
          wantFolded = image.slice();
        col2imTs(g, wantFolded, offset, columns, 0);
        call('col2im')(...gridArgs(g), folded, offset, columns, 0);
        assert.deepEqual(folded, wantFolded);
      }),
      seeded(100),
    );
  });

  it('refuses a grid field, image or columns that is hostile, too short, or of another type', () => {
    const kinds: Kind[] = [...Array(13).fill('whole'), 'array', 'whole', 'array', 'whole'];
    fc.assert(
      fc.property(columnCases, fc.nat(), fc.nat(), fc.boolean(), (c, pick, seed, fold) => {
        const args = [...gridArgs(c.g), c.image, c.offset, c.columns, 0];
        const i = pick % kinds.length;
        const value = fc.sample(hostile(kinds[i], 8), { seed, numRuns: 1 })[0];
        mustRefuse(call(fold ? 'col2im' : 'im2col'), args, i, value);
        mustRefuse(call(fold ? 'col2im' : 'im2col'), args, 13, c.image.subarray(0, c.offset + imageLength(c.g) - 1));
        if (columnsLength(c.g) > 0) mustRefuse(call(fold ? 'col2im' : 'im2col'), args, 15, c.columns.subarray(1));
      }),
      seeded(300),
    );
  });

  it('refuses grids whose sizes overflow, zero windows and strides, and a window the grid does not span', () => {
    const image = new Float32Array(16),
      columns = new Float32Array(64);
    const grid = [1, 4, 4, 2, 2, 1, 1, 0, 0, 1, 1, 3, 3];
    const run = (at: number, value: number) => {
      const g = [...grid];
      g[at] = value;
      mustRefuse(call('im2col'), [...g, image, 0, columns, 0], at, value);
    };
    for (const at of [3, 4, 5, 6, 9, 10]) run(at, 0); // kH, kW, sH, sW, dH, dW must be at least 1
    run(0, 2 ** 31 - 1); // channels: the image is longer than the array
    run(11, 2 ** 31 - 1); // colH: the columns are longer than the array
    const huge = [
      2 ** 31 - 1,
      2 ** 31 - 1,
      2 ** 31 - 1,
      2 ** 31 - 1,
      2 ** 31 - 1,
      1,
      1,
      0,
      0,
      1,
      1,
      2 ** 31 - 1,
      2 ** 31 - 1,
    ];
    assert.throws(() => call('im2col')(...huge, image, 0, columns, 0), RangeError, 'products past 2^53');
  });

  it("refuses fused calls whose m x n (or k x n) is not the grid's columns, or whose arrays are too short", () => {
    fc.assert(
      fc.property(columnCases, fc.integer({ min: 1, max: 4 }), fc.constantFrom(-1, 1), (c, k, off) => {
        const m = c.g.channels * c.g.kH * c.g.kW,
          n = c.g.colH * c.g.colW;
        const a = random('float32', m * k, 6),
          bm = random('float32', k * n, 7);
        const fused = [false, m, n, k, a, 0, k, bm, 0, n, ...gridArgs(c.g), c.image, c.offset, c.columns];
        call('gemmCol2im')(...fused);
        if (m + off >= 0) mustRefuse(call('gemmCol2im'), fused, 1, m + off);
        if (n + off >= 0) mustRefuse(call('gemmCol2im'), fused, 2, n + off);
        mustRefuse(call('gemmCol2im'), fused, 25, c.columns.subarray(0, m * n - 1));
        mustRefuse(call('gemmCol2im'), fused, 25, new Float64Array(m * n));
        mustRefuse(call('gemmCol2im'), fused, 4, a.subarray(1));

        const out = random('float32', k * n, 8);
        const unfold = [
          ...gridArgs(c.g),
          c.image,
          c.offset,
          false,
          false,
          k,
          n,
          m,
          1,
          a,
          0,
          m,
          1,
          out,
          0,
          n,
          c.columns,
        ];
        call('im2colGemm')(...unfold);
        if (m + off >= 0) mustRefuse(call('im2colGemm'), unfold, 19, m + off);
        mustRefuse(call('im2colGemm'), unfold, 25, out.subarray(1));
        mustRefuse(call('im2colGemm'), unfold, 13, c.image.subarray(0, c.offset + imageLength(c.g) - 1));
      }),
      seeded(150),
    );
  });

  it('says which BLAS it runs, on which core, on one thread', () => {
    const info = b.blasInfo();
    assert.match(info.config, /^OpenBLAS \d+\.\d+\.\d+/);
    assert.ok(info.core.length > 0);
    assert.equal(info.threads, 1);
  });
});
