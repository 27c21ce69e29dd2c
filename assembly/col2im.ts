/**
 * col2im on this module's memory: the same loops, in the same order of additions, as
 * workers/kernels/col2im.ts on typed arrays, so the two agree to the bit. The forward of a
 * transposed convolution folds the GEMM's result here, where it was computed, instead of copying
 * it out to fold it in JavaScript. Addresses are byte offsets.
 */

/** The first column position whose image coordinate `start + i * step` is inside the image. */
// @ts-ignore: decorator
@inline
function firstInside(start: i32, step: i32, count: i32): i32 {
  return start >= 0 ? 0 : min(count, (-start + step - 1) / step);
}

/** One past the last column position whose image coordinate is below `size`. */
// @ts-ignore: decorator
@inline
function endInside(start: i32, step: i32, size: i32, count: i32): i32 {
  return start >= size ? 0 : min(count, (size - start + step - 1) / step);
}

export function col2im<T>(
  columns: usize, image: usize,
  channels: i32, height: i32, width: i32,
  kH: i32, kW: i32, sH: i32, sW: i32, pH: i32, pW: i32, dH: i32, dW: i32, colH: i32, colW: i32,
): void {
  const shift = alignof<T>();
  memory.fill(image, 0, (<usize>channels * height * width) << shift);
  let row = columns;
  const rowBytes = (<usize>colH * colW) << shift;
  for (let c = 0; c < channels; c++) {
    const plane = image + ((<usize>c * height * width) << shift);
    for (let kh = 0; kh < kH; kh++) {
      const hStart = kh * dH - pH;
      const hFirst = firstInside(hStart, sH, colH);
      const hEnd = endInside(hStart, sH, height, colH);
      for (let kw = 0; kw < kW; kw++) {
        const wStart = kw * dW - pW;
        const wFirst = firstInside(wStart, sW, colW);
        const wEnd = endInside(wStart, sW, width, colW);
        for (let hCol = hFirst; hCol < hEnd; hCol++) {
          const from = row + ((<usize>hCol * colW) << shift);
          const dst = plane + ((<usize>((hStart + hCol * sH) * width + wStart)) << shift);
          for (let wCol = wFirst; wCol < wEnd; wCol++) {
            const to = dst + ((<usize>(wCol * sW)) << shift);
            store<T>(to, load<T>(to) + load<T>(from + ((<usize>wCol) << shift)));
          }
        }
        row += rowBytes;
      }
    }
  }
}
