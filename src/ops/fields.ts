import type { Shape } from './types.js';

/**
 * A shape as the request states it, with the names its errors use. A tensor's dimensions are
 * `input.shape[1]`; a bare shape field's are `inputShape[1]`. Shared checks take fields rather
 * than raw shapes so that one rule reports the path of whichever field fed it.
 */
export interface ShapeField {
  /** The request field itself: the path of size (413) errors. */
  readonly name: string;
  /** The path of the whole shape: the path of rank (400) errors. */
  readonly path: string;
  readonly shape: Shape;
  /** The path of dimension i. */
  at(i: number): string;
}

export function tensorField(name: string, shape: Shape): ShapeField {
  return { name, path: `${name}.shape`, shape, at: (i) => `${name}.shape[${i}]` };
}

export function shapeField(name: string, shape: Shape): ShapeField {
  return { name, path: name, shape, at: (i) => `${name}[${i}]` };
}

/** `input.shape[1] (3)`: a dimension as messages quote it. */
export function quote(field: ShapeField, i: number): string {
  return `${field.at(i)} (${field.shape[i]})`;
}

/** The image axes, as messages name them. */
export const AXES = ['height', 'width'] as const;

/** Where N, C, H and W sit in an image shape: [N, C, H, W] or unbatched [C, H, W]. */
export interface ImageAxes {
  /** Absent when the shape is unbatched. */
  readonly n: number | undefined;
  readonly c: number;
  readonly h: number;
  readonly w: number;
}

export function imageAxes(field: ShapeField): ImageAxes {
  const rank = field.shape.length;
  return { n: rank === 4 ? 0 : undefined, c: rank - 3, h: rank - 2, w: rank - 1 };
}

/** The batch size of an image shape; an unbatched shape runs as a batch of one. */
export function batchOf(field: ShapeField): number {
  return field.shape.length === 4 ? field.shape[0] : 1;
}

/** An NCHW result shape that follows the request's batching. */
export function imageShape(batched: boolean, n: number, c: number, h: number, w: number): Shape {
  return batched ? [n, c, h, w] : [c, h, w];
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export function showShape(shape: Shape): string {
  return `[${shape.join(', ')}]`;
}
