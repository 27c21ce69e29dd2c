/**
 * The 400 rules: ranks and integer ranges. The HTTP schema states the same ranges, but kernels
 * trust what this module returns and some callers are not the HTTP layer, so they are checked
 * again here, before any arithmetic relies on them (BigInt() throws on a fraction).
 */
import { OpError } from './errors.js';
import type { ShapeField } from './fields.js';

/** The largest integer any dimension or parameter may be, as in the HTTP contract. */
export const MAX_INT = 2 ** 31 - 1;

const isIntIn = (value: number, min: number) =>
  typeof value === 'number' && Number.isInteger(value) && value >= min && value <= MAX_INT;

const notInt = (path: string, value: number, min: number) =>
  new OpError(400, path, `${path} must be an integer from ${min} to ${MAX_INT}, got ${String(value)}`);

export function checkInt(path: string, value: number, min: number): void {
  if (!isIntIn(value, min)) throw notInt(path, value, min);
}

export function checkPair(path: string, pair: readonly number[], min: number): void {
  if (!Array.isArray(pair) || pair.length !== 2) {
    throw new OpError(400, path, `${path} must be a pair [h, w]`);
  }
  // Paths are spelled only for an error: every request passes here, nearly all of them valid.
  for (let i = 0; i < 2; i++) if (!isIntIn(pair[i], min)) throw notInt(`${path}[${i}]`, pair[i], min);
}

/**
 * A shape with one of the allowed ranks whose every dimension is an integer >= 1.
 * `layout` says what the dimensions are, for the message.
 */
export function checkShape(field: ShapeField, ranks: readonly number[], layout: string): void {
  const { shape } = field;
  if (!Array.isArray(shape) || !ranks.includes(shape.length)) {
    const got = Array.isArray(shape) ? `${shape.length}` : 'no array';
    throw new OpError(
      400,
      field.path,
      `${field.path} must have ${ranks.join(' or ')} dimensions (${layout}), got ${got}`,
    );
  }
  for (let i = 0; i < shape.length; i++) if (!isIntIn(shape[i], 1)) throw notInt(field.at(i), shape[i], 1);
}

/** An image: [N, C, H, W], or [C, H, W] for one unbatched sample. */
export function checkImage(field: ShapeField): void {
  checkShape(field, [3, 4], '[N, C, H, W] or unbatched [C, H, W]');
}

/** A weight or its gradient: always [dim0, dim1, kH, kW]. */
export function checkWeight(field: ShapeField): void {
  checkShape(field, [4], '[dim0, dim1, kH, kW]');
}

/** A bias or its gradient: [Cout]. */
export function checkVector(field: ShapeField): void {
  checkShape(field, [1], '[Cout]');
}

/** A second image of the request: all of a request's tensors are batched, or none is. */
export function checkImageLike(field: ShapeField, like: ShapeField): void {
  checkShape(field, [like.shape.length], `batched like ${like.path}: all tensors are batched or none is`);
}
