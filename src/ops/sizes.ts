/**
 * The size formulas of docs/semantics.md, one axis at a time. They run on BigInt because their
 * inputs may each be up to 2^31-1: a product such as (H - 1) * stride can pass 2^53, where
 * plain numbers silently round. Each result carries its formula written out with the values,
 * so that an error can show how a bad size came about.
 */

export interface Size {
  readonly value: bigint;
  /** e.g. `(5 - 1) * 2 - 2 * 0 + 1 * (3 - 1) + 0 + 1 = 11` */
  readonly formula: string;
}

/**
 * A size whose formula is written out only when read: only an error reads it, and spelling
 * BigInts into text on every valid request was most of the cost of planning a small one.
 */
export class LazySize<V extends bigint | undefined = bigint> {
  readonly value: V;
  readonly #write: () => string;
  #formula: string | undefined;
  constructor(value: V, write: () => string) {
    this.value = value;
    this.#write = write;
  }
  get formula(): string {
    return (this.#formula ??= this.#write());
  }
}

/** Rounds towards minus infinity, as the formulas mean (BigInt division truncates). */
function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n ? q - 1n : q;
}

/** Sliding-window positions along one axis: im2col's grid, conv2d's output. */
export function windowCount(size: number, k: number, s: number, p: number, d: number): Size {
  const numerator = BigInt(size) + 2n * BigInt(p) - BigInt(d) * (BigInt(k) - 1n) - 1n;
  const value = floorDiv(numerator, BigInt(s)) + 1n;
  return new LazySize(value, () => `floor((${size} + 2 * ${p} - ${d} * (${k} - 1) - 1) / ${s}) + 1 = ${value}`);
}

/** conv-transpose2d's output along one axis. */
export function transposedOutputSize(size: number, k: number, s: number, p: number, d: number, a: number): Size {
  const value = (BigInt(size) - 1n) * BigInt(s) - 2n * BigInt(p) + BigInt(d) * (BigInt(k) - 1n) + BigInt(a) + 1n;
  return new LazySize(value, () => `(${size} - 1) * ${s} - 2 * ${p} + ${d} * (${k} - 1) + ${a} + 1 = ${value}`);
}

/**
 * conv-transpose2d's input along one axis, from its output: the inverse of
 * transposedOutputSize. `value` is undefined when the division leaves a remainder.
 */
export function transposedInputSize(
  outSize: number,
  k: number,
  s: number,
  p: number,
  d: number,
  a: number,
): { readonly value: bigint | undefined; readonly formula: string } {
  const numerator = BigInt(outSize) - 1n + 2n * BigInt(p) - BigInt(d) * (BigInt(k) - 1n) - BigInt(a);
  const whole = numerator % BigInt(s) === 0n;
  const value = whole ? numerator / BigInt(s) + 1n : undefined;
  // A fraction is only for the reader; the decision above is exact.
  const shown = () => (whole ? `${value}` : `${Number(numerator) / s + 1}`);
  return new LazySize(value, () => `(${outSize} - 1 + 2 * ${p} - ${d} * (${k} - 1) - ${a}) / ${s} + 1 = ${shown()}`);
}
