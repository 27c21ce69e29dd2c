/**
 * im2col on this module's memory: the same loops as workers/kernels/im2col.ts on typed arrays.
 * The convolutions that unfold an image before a GEMM (the transposed one's input gradient and
 * weight gradient, the plain one's forward and weight gradient) unfold it here, where the GEMM
 * reads it, instead of unfolding it in JavaScript and copying the columns in. Addresses are byte
 * offsets.
 */
import { endInside, firstInside } from './grid-span';

export function im2col<T>(
  image: usize,
  columns: usize,
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
  let row = columns;
  const rowBytes = (<usize>colH * colW) << shift;
  const lineBytes = (<usize>colW) << shift;
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
        for (let hCol = 0; hCol < colH; hCol++) {
          const out = row + ((<usize>hCol * colW) << shift);
          if (hCol < hFirst || hCol >= hEnd) {
            memory.fill(out, 0, lineBytes);
            continue;
          }
          const src = plane + ((<usize>((hStart + hCol * sH) * width + wStart)) << shift);
          memory.fill(out, 0, (<usize>wFirst) << shift);
          for (let wCol = wFirst; wCol < wEnd; wCol++) {
            store<T>(out + ((<usize>wCol) << shift), load<T>(src + ((<usize>(wCol * sW)) << shift)));
          }
          memory.fill(out + ((<usize>wEnd) << shift), 0, (<usize>(colW - wEnd)) << shift);
        }
        row += rowBytes;
      }
    }
  }
}
