/**
 * The column positions i in [0, count) whose image coordinate start + i * step lies inside
 * [0, size) form one run [firstInside, endInside), as in workers/kernels/grid-span.ts.
 */

// @ts-ignore: decorator
@inline
export function firstInside(start: i32, step: i32, count: i32): i32 {
  return start >= 0 ? 0 : min(count, (-start + step - 1) / step);
}

// @ts-ignore: decorator
@inline
export function endInside(start: i32, step: i32, size: i32, count: i32): i32 {
  return start >= size ? 0 : min(count, (size - start + step - 1) / step);
}
