/**
 * col2im on this module's memory: the same loops, in the same order of additions, as
 * workers/kernels/col2im.ts on typed arrays, so the two agree to the bit. The forward of a
 * transposed convolution folds the GEMM's result here, where it was computed, instead of copying
 * it out to fold it in JavaScript. Addresses are byte offsets.
 */

import { endInside, firstInside } from './grid-span';

export function col2im<T>(
  columns: usize,
  image: usize,
  channels: i32,
  height: i32,
  width: i32,
  kH: i32,
  kW: i32,
  sH: i32,
  sW: i32,
  pH: i32,
  pW: i32,
  dH: i32,
  dW: i32,
  colH: i32,
  colW: i32,
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
