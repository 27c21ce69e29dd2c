import type { ColumnsGeometry, FloatArray } from '../geometry.js';
import { endInside, firstInside } from './grid-span.js';
import { columnsLength, imageLength, type SampleColumns } from './sample-columns.js';

/**
 * Unfolds one sample: columns[c_col, h_col*colW + w_col] = image[c, h_im, w_im] with
 * c = c_col / (kH*kW), kernel offset (kh, kw) = ((c_col / kW) % kH, c_col % kW),
 * h_im = h_col*sH - pH + kh*dH (w likewise), and 0 where (h_im, w_im) falls in the padding.
 * The grid (colH, colW) is taken from g, never derived from the image size.
 * Same argument list as col2im, its adjoint, whose loop nest this is with the copy reversed: the
 * two stay apart because sharing the nest would put a callback in the innermost loop.
 */
export function im2col<F extends FloatArray>(
  g: SampleColumns,
  image: F,
  imageOffset: number,
  columns: F,
  columnsOffset: number,
): void {
  const { channels, height, width, kH, kW, sH, sW, pH, pW, dH, dW, colH, colW } = g;
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
        for (let hCol = 0; hCol < colH; hCol++) {
          const out = row + hCol * colW;
          if (hCol < hFirst || hCol >= hEnd) {
            columns.fill(0, out, out + colW);
            continue;
          }
          const src = plane + (hStart + hCol * sH) * width + wStart;
          columns.fill(0, out, out + wFirst);
          for (let wCol = wFirst; wCol < wEnd; wCol++) columns[out + wCol] = image[src + wCol * sW];
          columns.fill(0, out + wEnd, out + colW);
        }
        row += colH * colW;
      }
    }
  }
}

/** torch.nn.functional.unfold: images [batch, C, H, W] -> columns [batch, C*kH*kW, colH*colW]. */
export function im2colBatch<F extends FloatArray>(g: ColumnsGeometry, image: F, columns: F): void {
  const imageStep = imageLength(g);
  const columnsStep = columnsLength(g);
  for (let n = 0; n < g.batch; n++) im2col(g, image, n * imageStep, columns, n * columnsStep);
}
