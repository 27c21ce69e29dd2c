import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { gemm } from '../../../workers/gemm/gemm.js';
import { dataSeed, dtypes, seeded } from '../helpers/arbitraries.js';
import { buffers, type Layout } from '../helpers/gemm-layout.js';
import { assertClose, filled, tolerance } from '../helpers/tensors.js';
import { gemmReference } from '../reference/gemm.js';

const layouts = fc.record({
  transA: fc.boolean(),
  transB: fc.boolean(),
  m: fc.integer({ min: 1, max: 6 }),
  n: fc.integer({ min: 1, max: 6 }),
  k: fc.integer({ min: 0, max: 6 }),
  aOffset: fc.integer({ min: 0, max: 3 }),
  bOffset: fc.integer({ min: 0, max: 3 }),
  cOffset: fc.integer({ min: 0, max: 3 }),
  aPad: fc.integer({ min: 0, max: 3 }),
  bPad: fc.integer({ min: 0, max: 3 }),
  cPad: fc.integer({ min: 0, max: 3 }),
});

const coefficients = fc.oneof(fc.constantFrom(0, 1, -1), fc.double({ min: -2, max: 2, noNaN: true }));

function run(l: Layout, alpha: number, beta: number, x: ReturnType<typeof buffers>): void {
  gemm(
    l.transA,
    l.transB,
    l.m,
    l.n,
    l.k,
    alpha,
    x.a,
    l.aOffset,
    x.lda,
    x.b,
    l.bOffset,
    x.ldb,
    beta,
    x.c,
    l.cOffset,
    x.ldc,
  );
}

function reference(l: Layout, alpha: number, beta: number, x: ReturnType<typeof buffers>): Float64Array {
  return gemmReference(
    l.transA,
    l.transB,
    l.m,
    l.n,
    l.k,
    alpha,
    x.a,
    l.aOffset,
    x.lda,
    x.b,
    l.bOffset,
    x.ldb,
    beta,
    x.c,
    l.cOffset,
    x.ldc,
  );
}

describe('gemm', () => {
  for (const [transA, transB] of [
    [false, false],
    [false, true],
    [true, false],
    [true, true],
  ] as const) {
    it(`matches the naive triple loop with transA=${transA}, transB=${transB} for any alpha, beta, offsets and leading dimensions, leaving the rest of C untouched`, () => {
      fc.assert(
        fc.property(layouts, coefficients, coefficients, dtypes, dataSeed, (shape, alpha, beta, dtype, seed) => {
          const l = { ...shape, transA, transB };
          const x = buffers(l, dtype, seed);
          const expected = reference(l, alpha, beta, x);
          run(l, alpha, beta, x);
          assertClose(x.c, expected, tolerance[dtype], 'C');
        }),
        seeded(100),
      );
    });
  }

  it('overwrites C without reading it when beta is 0, so NaN already in C does not leak', () => {
    fc.assert(
      fc.property(layouts, coefficients, dtypes, dataSeed, (l, alpha, dtype, seed) => {
        const x = buffers(l, dtype, seed);
        x.c.fill(Number.NaN);
        const expected = reference(l, alpha, 0, x);
        run(l, alpha, 0, x);
        for (let i = 0; i < l.m; i++) {
          for (let j = 0; j < l.n; j++) assert.ok(!Number.isNaN(x.c[l.cOffset + i * x.ldc + j]));
        }
        assertClose(x.c, expected, tolerance[dtype], 'C');
      }),
      seeded(100),
    );
  });

  it('skips the product when alpha is 0, so NaN in A or B does not reach C', () => {
    fc.assert(
      fc.property(layouts, coefficients, dtypes, dataSeed, (l, beta, dtype, seed) => {
        const x = buffers(l, dtype, seed);
        const before = Float64Array.from(x.c);
        x.a.fill(Number.NaN);
        x.b.fill(Number.NaN);
        run(l, 0, beta, x);
        const expected = before.map((v, index) => {
          const row = Math.floor((index - l.cOffset) / x.ldc);
          const col = (index - l.cOffset) % x.ldc;
          const inBlock = index >= l.cOffset && row < l.m && col < l.n;
          return inBlock ? (beta === 0 ? 0 : beta * v) : v;
        });
        assertClose(x.c, expected, tolerance[dtype], 'C');
      }),
      seeded(100),
    );
  });

  it('does not skip zero entries: 0 * NaN and 0 * Infinity reach C as NaN', () => {
    for (const [transA, transB] of [
      [false, false],
      [false, true],
      [true, false],
      [true, true],
    ] as const) {
      for (const poison of [Number.NaN, Number.POSITIVE_INFINITY]) {
        // A = [0 1], B = [[poison], [2]]: the product is 0 * poison + 1 * 2 = NaN.
        const a = Float64Array.of(0, 1);
        const b = Float64Array.of(poison, 2);
        const c = filled('float64', 1, 5);
        gemm(transA, transB, 1, 1, 2, 1, a, 0, transA ? 1 : 2, b, 0, transB ? 2 : 1, 1, c, 0, 1);
        assert.ok(Number.isNaN(c[0]), `transA=${transA} transB=${transB} poison=${poison}`);
      }
    }
  });

  it('scales C by beta alone when k is 0', () => {
    const c = Float32Array.of(1, 2, 3, 4);
    gemm(false, false, 2, 2, 0, 1, new Float32Array(0), 0, 0, new Float32Array(0), 0, 2, 3, c, 0, 2);
    assert.deepEqual(Array.from(c), [3, 6, 9, 12]);
  });
});
