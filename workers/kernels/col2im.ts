import type { ColumnsGeometry, FloatArray } from '../geometry.js';
import { endInside, firstInside } from './grid-span.js';
import { columnsLength, imageLength, type SampleColumns } from './sample-columns.js';

/**
 * Folds one sample, the adjoint of im2col (same argument list, data flowing the other way):
 * zeroes the image region, then adds every column entry into the pixel im2col would have read it
 * from. Overlapping windows sum; entries that fall in the padding are dropped. The loop nest is
 * im2col.ts's, written again rather than shared through a callback in the innermost loop.
 */
export function col2im<F extends FloatArray>(
  g: SampleColumns,
  image: F,
  imageOffset: number,
  columns: F,
  columnsOffset: number,
): void {
  const { channels, height, width, kH, kW, sH, sW, pH, pW, dH, dW, colH, colW } = g;
  image.fill(0, imageOffset, imageOffset + imageLength(g));
  let row = columnsOffset;
  for (let c = 0; c < channels; c++) {
    const plane = imageOffset + c * height * width;
    for (let kh = 0; kh < kH; kh++) {
      const hStart = kh * dH - pH;
      const hFirst = firstInside(hStart, sH, colH);
      const hEnd = endInside(hStart, sH, height, colH);
      for (let kw = 0; kw < kW; kw++) {
        const wStart = kw * dW - pW;
        const wFirst = firstInside(wStart, sW, colW);
        const wEnd = endInside(wStart, sW, width, colW);
        for (let hCol = hFirst; hCol < hEnd; hCol++) {
          const from = row + hCol * colW;
          const dst = plane + (hStart + hCol * sH) * width + wStart;
          for (let wCol = wFirst; wCol < wEnd; wCol++) image[dst + wCol * sW] += columns[from + wCol];
        }
        row += colH * colW;
      }
    }
  }
}

/** torch.nn.functional.fold: columns [batch, C*kH*kW, colH*colW] -> images [batch, C, H, W]. */
export function col2imBatch<F extends FloatArray>(g: ColumnsGeometry, columns: F, image: F): void {
  const imageStep = imageLength(g);
  const columnsStep = columnsLength(g);
  for (let n = 0; n < g.batch; n++) col2im(g, image, n * imageStep, columns, n * columnsStep);
}
