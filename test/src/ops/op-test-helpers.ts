import assert from 'node:assert/strict';
import fc from 'fast-check';
import { OpError, type OpErrorStatus } from '../../../src/ops/errors.js';
import type { ConvParams, Limits, Pair, WindowParams } from '../../../src/ops/types.js';

/** The service's default limits (docs/api.md). */
export const LIMITS: Limits = { maxElements: 16_777_216, maxMacs: 2 ** 36 };
/** Limits no test shape comes near, for properties about shapes alone. */
export const NO_LIMITS: Limits = { maxElements: Number.MAX_SAFE_INTEGER, maxMacs: Number.MAX_SAFE_INTEGER };
export const MAX_INT = 2 ** 31 - 1;

export function conv(over: Partial<ConvParams> = {}): ConvParams {
  return { stride: [1, 1], padding: [0, 0], outputPadding: [0, 0], dilation: [1, 1], groups: 1, ...over };
}

export function windowed(kernelSize: Pair, over: Partial<WindowParams> = {}): WindowParams {
  return { kernelSize, stride: [1, 1], padding: [0, 0], dilation: [1, 1], ...over };
}

export interface ExpectedError {
  readonly status: OpErrorStatus;
  readonly path: string;
  /** The whole message, or a pattern when only part of it is the point. */
  readonly message: string | RegExp;
}

export function assertOpError(run: () => unknown, expected: ExpectedError): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof OpError, `expected an OpError, got ${String(error)}`);
    assert.deepEqual({ status: error.status, path: error.path }, { status: expected.status, path: expected.path });
    if (typeof expected.message === 'string') assert.equal(error.message, expected.message);
    else assert.match(error.message, expected.message);
    return true;
  });
}

/** Runs an op on garbage: it may return a plan or throw an OpError with a 4xx status, nothing else. */
export function planOrOpError(run: () => unknown): void {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof OpError, `expected an OpError, got ${String(error)}`);
    assert.ok([400, 413, 422].includes(error.status), `unexpected status ${error.status}`);
  }
}

/**
 * Integers a careless or hostile client might send: zero, negative, past 2^31 and 2^53, mixed
 * with enough small positive ones that garbage also gets past the rank checks to the deeper rules.
 */
export const garbageInt: fc.Arbitrary<number> = fc.oneof(
  { arbitrary: fc.integer({ min: 1, max: 2 }), weight: 12 },
  { arbitrary: fc.integer({ min: 3, max: 5 }), weight: 3 },
  { arbitrary: fc.integer({ min: -2, max: 0 }), weight: 1 },
  { arbitrary: fc.constantFrom(-(2 ** 31), MAX_INT, 2 ** 31, 2 ** 40, Number.MAX_SAFE_INTEGER, 2 ** 60), weight: 1 },
);
export const garbageShape: fc.Arbitrary<number[]> = fc.oneof(
  { arbitrary: fc.array(garbageInt, { minLength: 0, maxLength: 5 }), weight: 1 },
  { arbitrary: fc.array(garbageInt, { minLength: 3, maxLength: 3 }), weight: 2 },
  { arbitrary: fc.array(garbageInt, { minLength: 4, maxLength: 4 }), weight: 5 },
);
export const garbagePair: fc.Arbitrary<[number, number]> = fc.tuple(garbageInt, garbageInt);
export const garbageConv: fc.Arbitrary<ConvParams> = fc.record({
  stride: garbagePair,
  padding: garbagePair.map(([h, w]) => [h - 1, w - 1] as [number, number]),
  outputPadding: garbagePair.map(([h, w]) => [h - 1, w - 1] as [number, number]),
  dilation: garbagePair,
  groups: garbageInt,
});
/** Small limits too, so that garbage also reaches the 413 rules. */
export const someLimits: fc.Arbitrary<Limits> = fc.constantFrom(LIMITS, NO_LIMITS, { maxElements: 64, maxMacs: 1000 });

/** Replaces the numbers at the given positions (counted depth-first, modulo their count) in a copy of value. */
function replaceNumbers<T>(value: T, edits: readonly (readonly [number, number])[]): T {
  let count = 0;
  const countLeaves = (v: unknown): void => {
    if (typeof v === 'number') count += 1;
    else if (v !== null && typeof v === 'object') Object.values(v).forEach(countLeaves);
  };
  countLeaves(value);
  if (count === 0) return value;
  const targets = new Map(edits.map(([at, garbage]) => [at % count, garbage]));
  let index = 0;
  const rebuild = (v: unknown): unknown => {
    if (typeof v === 'number') return targets.get(index++) ?? v;
    if (Array.isArray(v)) return v.map(rebuild);
    if (v !== null && typeof v === 'object')
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, rebuild(x)]));
    return v;
  };
  return rebuild(value) as T;
}

/** A valid request with one to three of its integers replaced by garbage: garbage that reaches the deep rules. */
export function corrupted<T>(valid: fc.Arbitrary<T>): fc.Arbitrary<T> {
  const edits = fc.array(fc.tuple(fc.nat(), garbageInt), { minLength: 1, maxLength: 3 });
  return fc.tuple(valid, edits).map(([v, e]) => replaceNumbers(v, e));
}
