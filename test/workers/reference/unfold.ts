import type { ColumnsGeometry } from '../../../workers/geometry.js';

/**
 * Visits every (image pixel, column entry) pair of unfold by its definition: column row
 * (c*kH + kh)*kW + kw, position (hCol, wCol) reads pixel (c, hCol*sH - pH + kh*dH,
 * wCol*sW - pW + kw*dW); pixelIndex is -1 where that falls in the padding.
 */
function forEachEntry(g: ColumnsGeometry, visit: (pixelIndex: number, columnIndex: number) => void): void {
  const rows = g.channels * g.kH * g.kW;
  for (let n = 0; n < g.batch; n++) {
    for (let c = 0; c < g.channels; c++) {
      for (let kh = 0; kh < g.kH; kh++) {
        for (let kw = 0; kw < g.kW; kw++) {
          const row = (c * g.kH + kh) * g.kW + kw;
          for (let hCol = 0; hCol < g.colH; hCol++) {
            for (let wCol = 0; wCol < g.colW; wCol++) {
              const h = hCol * g.sH - g.pH + kh * g.dH;
              const w = wCol * g.sW - g.pW + kw * g.dW;
              const inside = h >= 0 && h < g.height && w >= 0 && w < g.width;
              const pixel = inside ? ((n * g.channels + c) * g.height + h) * g.width + w : -1;
              visit(pixel, ((n * rows + row) * g.colH + hCol) * g.colW + wCol);
            }
          }
        }
      }
    }
  }
}

/** torch.nn.functional.unfold by definition, in float64. */
export function unfoldReference(g: ColumnsGeometry, image: ArrayLike<number>): Float64Array {
  const columns = new Float64Array(g.batch * g.channels * g.kH * g.kW * g.colH * g.colW);
  forEachEntry(g, (pixel, entry) => {
    columns[entry] = pixel < 0 ? 0 : image[pixel];
  });
  return columns;
}

/** torch.nn.functional.fold by definition, in float64: every in-image entry summed into its pixel. */
export function foldReference(g: ColumnsGeometry, columns: ArrayLike<number>): Float64Array {
  const image = new Float64Array(g.batch * g.channels * g.height * g.width);
  forEachEntry(g, (pixel, entry) => {
    if (pixel >= 0) image[pixel] += columns[entry];
  });
  return image;
}
