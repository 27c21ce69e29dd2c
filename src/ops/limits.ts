/**
 * The 413 rules: element and multiply-add budgets, decided from shapes alone. Counts are exact
 * BigInt products (dimensions are at most 2^31-1 each, so nothing is rounded or wraps) and are
 * compared with the limits before any buffer exists.
 */
import { OpError } from './errors.js';
import { MAX_INT } from './guards.js';
import type { Limits, Shape } from './types.js';

export function product(factors: readonly number[]): bigint {
  // In doubles when the product of integers is a safe integer: every partial product was then
  // exact too (its magnitude is at most the product's, or a factor 0 makes it exact 0), and a
  // request within the limits always is. BigInt arithmetic costs far more.
  let n = 1;
  let integers = true;
  for (const f of factors) {
    n *= f;
    integers &&= Number.isInteger(f);
  }
  if (integers && Number.isSafeInteger(n)) return BigInt(n);
  return factors.reduce((acc, f) => acc * BigInt(f), 1n);
}

/** `path` names the tensor (`input`, `output`, `columns`); `what` may describe it further. */
export function checkElements(path: string, dims: readonly number[], limits: Limits, what = path): void {
  const count = product(dims);
  if (count > limits.maxElements) {
    throw new OpError(
      413,
      path,
      `${what} has ${count} elements (${dims.join(' x ')}), more than the limit of ${limits.maxElements}`,
    );
  }
}

/** Checks the cost against the budget and returns it. */
export function checkMacs(factors: readonly number[], limits: Limits): number {
  const macs = product(factors);
  if (macs > limits.maxMacs) {
    throw new OpError(
      413,
      '',
      `the request costs ${macs} multiply-adds (${factors.join(' x ')}), more than the limit of ${limits.maxMacs}`,
    );
  }
  return Number(macs);
}

/**
 * A dimension of a result the service computes. No request may carry a dimension above 2^31-1,
 * so no result may have one either; this also keeps every geometry field a safe integer.
 */
export function resultDim(
  path: string,
  size: { readonly value: bigint; readonly formula: string },
  what: string,
): number {
  if (size.value > MAX_INT) {
    throw new OpError(
      413,
      path,
      `${path} would have ${what} ${size.formula}, more than the largest dimension, ${MAX_INT}`,
    );
  }
  return Number(size.value);
}

export interface SizedPlan {
  /** Tensors the request sends, by field name. */
  readonly given: readonly { readonly name: string; readonly shape: Shape }[];
  /** Tensors the request returns, by field name. */
  readonly results: Readonly<Record<string, Shape | undefined>>;
  /** The column scratch buffer's dimensions; empty when there is none. */
  readonly scratch: readonly number[];
  readonly macs: readonly number[];
}

/** Every 413 rule of one request, in the order a reader expects: what it sends, then what it would make. */
export function checkSizes(plan: SizedPlan, limits: Limits): { scratchElements: number; macs: number } {
  for (const field of plan.given) checkElements(field.name, field.shape, limits);
  for (const [name, shape] of Object.entries(plan.results)) {
    if (shape !== undefined) checkElements(name, shape, limits);
  }
  if (plan.scratch.length > 0) checkElements('columns', plan.scratch, limits, 'the column buffer');
  return {
    scratchElements: plan.scratch.length > 0 ? Number(product(plan.scratch)) : 0,
    macs: checkMacs(plan.macs, limits),
  };
}
