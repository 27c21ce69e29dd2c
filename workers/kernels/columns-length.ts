import type { ConvGeometry } from '../geometry.js';
import { columnsAreImage, columnsLength, groupColumns } from './sample-columns.js';

/**
 * Elements of the column scratch buffer every conv kernel of this geometry needs: one group's
 * columns for one sample, reused across groups and samples. 0 when the kernels run on the image
 * directly (see columnsAreImage).
 */
export function scratchLength(g: ConvGeometry): number {
  const columns = groupColumns(g);
  return columnsAreImage(columns) ? 0 : columnsLength(columns);
}
