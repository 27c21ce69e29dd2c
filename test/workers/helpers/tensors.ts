import assert from 'node:assert/strict';
import type { Dtype, FloatArray } from '../../../workers/geometry.js';

/** Relative tolerances against a float64 reference, as docs/semantics.md states them (float64 tighter). */
export const tolerance: Record<Dtype, number> = { float32: 1e-4, float64: 1e-12 };

export function zeros(dtype: Dtype, length: number): FloatArray {
  return dtype === 'float32' ? new Float32Array(length) : new Float64Array(length);
}

export function filled(dtype: Dtype, length: number, value: number): FloatArray {
  return zeros(dtype, length).fill(value);
}

/** Uniform values in [-1, 1) from a seeded mulberry32 stream, so every case is reproducible. */
export function random(dtype: Dtype, length: number, seed: number): FloatArray {
  const out = zeros(dtype, length);
  let state = seed >>> 0;
  for (let i = 0; i < length; i++) {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((t ^ (t >>> 14)) >>> 0) / 2 ** 31 - 1;
  }
  return out;
}

/**
 * Element-wise |actual - expected| <= rtol * (1 + |expected|); NaN must meet NaN and an infinity
 * the same infinity, as IEEE arithmetic gives them.
 */
export function assertClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  rtol: number,
  what = 'result',
): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    if (!Number.isFinite(e)) {
      assert.ok(Object.is(a, e), `${what}[${i}]: got ${a}, expected ${e}`);
    } else {
      assert.ok(Math.abs(a - e) <= rtol * (1 + Math.abs(e)), `${what}[${i}]: got ${a}, expected ${e}`);
    }
  }
}

export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i] * b[i];
  return sum;
}

/** The Cauchy-Schwarz bound on |<a, b>|: the scale rounding errors of a dot product are relative to. */
export function dotScale(a: ArrayLike<number>, b: ArrayLike<number>): number {
  return Math.sqrt(dot(a, a) * dot(b, b));
}
