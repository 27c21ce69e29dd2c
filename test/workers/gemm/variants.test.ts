/**
 * Every GEMM variant the registry offers on this runtime, held to the same specification: the
 * naive triple loop on random layouts (offsets, leading dimensions, both transposes, alpha and
 * beta, the NaN rules), on blocks that cross every cache-block and tile edge, and the PyTorch
 * golden vectors run through runTask with the variant selected.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import { loadNative } from '../../../workers/gemm/native-gemm.js';
import {
  forcedFamily,
  GEMM_VARIANTS,
  type GemmVariant,
  offeredVariants,
  selectedVariant,
  selectVariant,
} from '../../../workers/gemm/registry.js';
import { runtimeHasSimd } from '../../../workers/gemm/simd-probe.js';
import { wasmBytes } from '../../../workers/gemm/wasm-module.js';
import type { FloatArray } from '../../../workers/geometry.js';
import { type OpName, runTask, type TensorName } from '../../../workers/tasks.js';
import {
  assertClose as assertGoldenClose,
  goldenOp,
  loadGolden,
  type ResultName,
  toTypedArray,
} from '../../golden/fixtures.js';
import { computeBiasOf, scaleOf } from '../../golden/request.js';
import { dataSeed, seeded } from '../helpers/arbitraries.js';
import { buffers, type Layout } from '../helpers/gemm-layout.js';
import { CONV_ROUTES, goldenGeometry } from '../helpers/golden-plan.js';
import { assertClose, tolerance } from '../helpers/tensors.js';
import { gemmReference } from '../reference/gemm.js';

/** What scripts/build-native.mjs needs to build the addon. */
const toolchain = [
  'pkg-config --exists openblas',
  'cc --version',
  'c++ --version',
  'make --version',
  'python3 --version',
].every((command) => spawnSync('sh', ['-c', command], { stdio: 'ignore' }).status === 0);

/** A layout with its coefficients. */
interface Call extends Layout {
  alpha: number;
  beta: number;
}

/** Runs one call on fresh seeded buffers and checks C (the whole buffer) against the reference. */
function check(variant: GemmVariant, call: Call, seed: number, poison?: 'c' | 'ab'): void {
  const { transA, transB, m, n, k } = call;
  const { a, b, c, lda, ldb, ldc } = buffers(call, variant.dtype, seed);
  if (poison === 'c') c.fill(Number.NaN, call.cOffset, call.cOffset + (m - 1) * ldc + n);
  if (poison === 'ab') {
    a.fill(Number.NaN);
    b.fill(Number.NaN);
  }
  // With beta = 0 C's block is not read: the reference must not read the poison either.
  const expected = gemmReference(
    transA,
    transB,
    m,
    n,
    k,
    call.alpha,
    a,
    call.aOffset,
    lda,
    b,
    call.bOffset,
    ldb,
    call.beta,
    c,
    call.cOffset,
    ldc,
  );
  if (poison === 'ab') {
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        const at = call.cOffset + i * ldc + j;
        expected[at] = call.beta === 0 ? 0 : call.beta * c[at];
      }
  }
  variant.gemm(
    transA,
    transB,
    m,
    n,
    k,
    call.alpha,
    a,
    call.aOffset,
    lda,
    b,
    call.bOffset,
    ldb,
    call.beta,
    c,
    call.cOffset,
    ldc,
  );
  assertClose(c, expected, tolerance[variant.dtype], `${variant.name} C`);
}

const smallCalls = fc.record({
  transA: fc.boolean(),
  transB: fc.boolean(),
  m: fc.integer({ min: 1, max: 11 }),
  n: fc.integer({ min: 1, max: 19 }),
  k: fc.integer({ min: 0, max: 9 }),
  alpha: fc.oneof(fc.constantFrom(0, 1, -1), fc.double({ min: -2, max: 2, noNaN: true })),
  beta: fc.oneof(fc.constantFrom(0, 1, -1), fc.double({ min: -2, max: 2, noNaN: true })),
  aOffset: fc.integer({ min: 0, max: 3 }),
  bOffset: fc.integer({ min: 0, max: 3 }),
  cOffset: fc.integer({ min: 0, max: 3 }),
  aPad: fc.integer({ min: 0, max: 3 }),
  bPad: fc.integer({ min: 0, max: 3 }),
  cPad: fc.integer({ min: 0, max: 3 }),
});

const plain = { alpha: 1, beta: 0, aOffset: 0, bOffset: 0, cOffset: 0, aPad: 0, bPad: 0, cPad: 0 };

/**
 * Blocks past the cache-blocking edges of the WebAssembly GEMM (kc = 256; mc = 128 / 64;
 * nc = 2048 / 1024 for f32 / f64) and off the tile grid (4 x 8 / 4 x 4), in every transpose.
 */
const blockEdgeCalls: Call[] = [
  { ...plain, transA: false, transB: false, m: 131, n: 19, k: 300 },
  { ...plain, transA: true, transB: false, m: 70, n: 13, k: 257, beta: 1, cPad: 5 },
  { ...plain, transA: false, transB: true, m: 9, n: 35, k: 513, alpha: 0.5, beta: -1, aPad: 2, bPad: 1 },
  { ...plain, transA: true, transB: true, m: 130, n: 9, k: 40, aOffset: 3, bOffset: 1, cOffset: 2 },
  { ...plain, transA: false, transB: false, m: 5, n: 2051, k: 3, cPad: 1 },
  { ...plain, transA: true, transB: false, m: 6, n: 1030, k: 260, beta: 2 },
];

describe('the GEMM registry', () => {
  it('always offers the TypeScript reference for both dtypes', () => {
    const names = offeredVariants().map((v) => v.name);
    assert.ok(names.includes('f32-gemm-reference-ts'));
    assert.ok(names.includes('f64-gemm-reference-ts'));
  });

  it('offers the WebAssembly SIMD variants exactly when the runtime validates SIMD and the module is built', () => {
    const expected = runtimeHasSimd() && wasmBytes() !== null;
    const offered = offeredVariants().map((v) => v.name);
    for (const name of ['f32-gemm-4x8-wasmsimd', 'f64-gemm-4x4-wasmsimd'])
      assert.equal(offered.includes(name), expected, name);
  });

  it('finds the module built by `npm run build:wasm` on this Node, which has SIMD', () => {
    assert.ok(runtimeHasSimd(), 'Node 20 runs WebAssembly SIMD');
    assert.ok(wasmBytes() !== null, 'build/wasm/gemm.wasm exists (npm test builds it first)');
  });

  it('selects the best offered variant per dtype by default, a named one on request, and refuses one not offered', () => {
    // Of the family GEMM_VARIANT forces, when it forces one (CI runs this file again under wasm).
    const family = forcedFamily();
    const best = (dtype: 'float32' | 'float64') =>
      offeredVariants()
        .filter((v) => v.dtype === dtype && (family === null || v.family === family))
        .sort((a, b) => b.rank - a.rank)[0].name;
    selectVariant();
    assert.equal(selectedVariant('float32').name, best('float32'));
    assert.equal(selectedVariant('float64').name, best('float64'));
    selectVariant('f32-gemm-reference-ts');
    assert.equal(selectedVariant('float32').name, 'f32-gemm-reference-ts');
    assert.equal(selectedVariant('float64').name, best('float64'), 'the other dtype keeps its variant');
    assert.throws(() => selectVariant('f32-gemm-9x9-avx512'), /not offered/);
    selectVariant();
  });

  it('offers the native (OpenBLAS) variants exactly when the addon was built, loads and passes its self-check', () => {
    const offered = offeredVariants().map((v) => v.name);
    for (const name of ['f32-gemm-cblas-openblas', 'f64-gemm-cblas-openblas'])
      assert.equal(offered.includes(name), loadNative().blas !== null, name);
  });

  it('builds the native variant wherever pkg-config finds OpenBLAS and a compiler is there (as in CI)', {
    skip: toolchain ? false : 'no pkg-config/OpenBLAS/cc here',
  }, () => {
    assert.equal(loadNative().why, null);
  });

  it('names every variant by the grammar <type>-gemm-<tile>-<target>', () => {
    for (const v of GEMM_VARIANTS) assert.match(v.name, /^f(32|64)-gemm-[a-z0-9]+-[a-z0-9]+$/, v.name);
  });
});

for (const variant of offeredVariants()) {
  describe(`GEMM variant ${variant.name}`, () => {
    after(() => selectVariant());

    it('matches the naive triple loop for any transposes, sizes, alpha, beta, offsets and leading dimensions, leaving the rest of C untouched', () => {
      fc.assert(
        fc.property(smallCalls, dataSeed, (call, seed) => check(variant, call, seed)),
        seeded(150),
      );
    });

    it('matches it on blocks crossing every cache-block and tile edge', () => {
      for (const [i, call] of blockEdgeCalls.entries()) check(variant, call, 1000 + i);
    });

    it('never reads C when beta is 0 (NaN there does not leak) and never reads A or B when alpha is 0', () => {
      fc.assert(
        fc.property(smallCalls, dataSeed, (call, seed) => {
          check(variant, { ...call, beta: 0 }, seed, 'c');
          check(variant, { ...call, alpha: 0 }, seed, 'ab');
        }),
        seeded(50),
      );
    });

    it('does not skip zero entries: 0 * NaN and 0 * Infinity reach C as NaN', () => {
      for (const poison of [Number.NaN, Number.POSITIVE_INFINITY]) {
        const F = variant.dtype === 'float32' ? Float32Array : Float64Array;
        const c = F.of(5);
        variant.gemm(false, false, 1, 1, 2, 1, F.of(0, 1), 0, 2, F.of(poison, 2), 0, 1, 1, c, 0, 1);
        assert.ok(Number.isNaN(c[0]), String(poison));
      }
    });

    for (const route of CONV_ROUTES) {
      it(`runs the PyTorch golden cases of ${route} through runTask`, () => {
        selectVariant(variant.name);
        const cases = loadGolden(route).cases.filter((c) => c.dtype === variant.dtype);
        assert.ok(cases.length > 0, `golden cases in ${variant.dtype}`);
        for (const golden of cases) {
          const tensors: Partial<Record<TensorName, FloatArray>> = {};
          for (const field of ['input', 'weight', 'bias', 'gradOutput', 'gradWeight', 'gradBias'] as const) {
            const t = golden.request[field];
            if (t !== undefined) tensors[field] = toTypedArray(t);
          }
          const results = runTask({
            op: goldenOp(route) as OpName,
            geometry: goldenGeometry(route, golden.request),
            dtype: golden.dtype,
            tensors,
            scale: scaleOf(golden.request),
            computeBias: computeBiasOf(golden.request),
          });
          for (const [name, want] of Object.entries(golden.response) as [
            ResultName,
            { readonly data: readonly number[] },
          ][]) {
            const got = results[name];
            assert.ok(got !== undefined, `${golden.name}: no ${name}`);
            assertGoldenClose(got, want.data, golden.dtype, `${golden.name} ${name}`);
          }
        }
      });
    }
  });
}
