/**
 * The column positions i in [0, count) whose image coordinate start + i*step lies inside
 * [0, size) form one run [firstInside, endInside). Computing the run once per row lets im2col and
 * col2im copy without a bounds test per element.
 */
export function firstInside(start: number, step: number, count: number): number {
  return start >= 0 ? 0 : Math.min(count, Math.ceil(-start / step));
}

export function endInside(start: number, step: number, size: number, count: number): number {
  return start >= size ? 0 : Math.min(count, Math.ceil((size - start) / step));
}
