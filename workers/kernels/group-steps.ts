import type { ConvGeometry, FloatArray } from '../geometry.js';
import { gemmThenCol2im, im2colThenGemm } from './fused-columns.js';
import { forEachGroupBlock } from './group-blocks.js';
import { groupColumns } from './sample-columns.js';

/**
 * The three steps every pass of both convolution families is one of, run per (sample, group)
 * block. Each is stated over the two sides of a convolution: the image side, which im2col unfolds
 * and col2im folds (a plain convolution's input, a transposed one's output), and the grid side,
 * on whose grid the columns are laid (a plain convolution's output, a transposed one's input).
 * One group's weight is a gridChannels x rows matrix in both families' layouts, rows being
 * imageChannels/groups * kH * kW: so the six kernels are these three steps with the sides named.
 * `columns` holds scratchLength(g) elements.
 */
function sizes(g: ConvGeometry) {
  const columnsGrid = groupColumns(g);
  const gridChannels = (g.kind === 'conv2d' ? g.outChannels : g.inChannels) / g.groups;
  const rows = columnsGrid.channels * g.kH * g.kW;
  return { columnsGrid, gridChannels, rows, plane: columnsGrid.colH * columnsGrid.colW };
}

/** gridSide_n,g = weight_g · im2col(imageSide_n,g), overwritten. */
export function unfoldThenMultiply<F extends FloatArray>(
  g: ConvGeometry,
  imageSide: F,
  weight: F,
  gridSide: F,
  columns: F,
): void {
  const { columnsGrid, gridChannels, rows, plane } = sizes(g);
  forEachGroupBlock(g, (imageAt, gridAt, weightAt) => {
    im2colThenGemm({
      grid: columnsGrid,
      image: imageSide,
      imageOffset: imageAt,
      columns,
      transA: false,
      transB: false,
      m: gridChannels,
      n: plane,
      k: rows,
      alpha: 1,
      a: weight,
      aOffset: weightAt,
      lda: rows,
      beta: 0,
      c: gridSide,
      cOffset: gridAt,
      ldc: plane,
    });
  });
}

/** imageSide_n,g = col2im(weight_g^T · gridSide_n,g), overwritten. */
export function multiplyThenFold<F extends FloatArray>(
  g: ConvGeometry,
  gridSide: F,
  weight: F,
  imageSide: F,
  columns: F,
): void {
  const { columnsGrid, gridChannels, rows, plane } = sizes(g);
  forEachGroupBlock(g, (imageAt, gridAt, weightAt) => {
    gemmThenCol2im({
      grid: columnsGrid,
      image: imageSide,
      imageOffset: imageAt,
      columns,
      transA: true,
      m: rows,
      n: plane,
      k: gridChannels,
      a: weight,
      aOffset: weightAt,
      lda: rows,
      b: gridSide,
      bOffset: gridAt,
      ldb: plane,
    });
  });
}

// Its record differs from unfoldThenMultiply's in the product's operands; a shared base spread
// into both would be a spread per block (see groupColumns on what V8 makes of one).
/** gradWeight_g += scale * gridSide_n,g · im2col(imageSide_n,g)^T, summed over the batch (beta = 1). */
export function accumulateWeightGradient<F extends FloatArray>(
  g: ConvGeometry,
  imageSide: F,
  gridSide: F,
  gradWeight: F,
  scale: number,
  columns: F,
): void {
  const { columnsGrid, gridChannels, rows, plane } = sizes(g);
  forEachGroupBlock(g, (imageAt, gridAt, weightAt) => {
    im2colThenGemm({
      grid: columnsGrid,
      image: imageSide,
      imageOffset: imageAt,
      columns,
      transA: false,
      transB: true,
      m: gridChannels,
      n: rows,
      k: plane,
      alpha: scale,
      a: gridSide,
      aOffset: gridAt,
      lda: plane,
      beta: 1,
      c: gradWeight,
      cOffset: weightAt,
      ldc: rows,
    });
  });
}
