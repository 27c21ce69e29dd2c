/**
 * Shape inference and validation of im2col and col2im (torch.nn.functional.unfold and fold).
 * They are mirror images and take one argument list; col2im is told its image size because
 * several image sizes give one column grid.
 */
import type { ColumnsGeometry, Window } from '../../workers/geometry.js';
import { OpError } from './errors.js';
import { AXES, batchOf, imageAxes, imageShape, quote, type ShapeField, tensorField } from './fields.js';
import { checkImage, checkPair, checkShape } from './guards.js';
import { checkSizes, product, resultDim } from './limits.js';
import { checkWindowParams, toWindow } from './params.js';
import { type Size, windowCount } from './sizes.js';
import type { ColumnsPlan, Limits, Pair, Shape, WindowParams } from './types.js';

function windowCounts(size: Pair, w: Window): [Size, Size] {
  return [windowCount(size[0], w.kH, w.sH, w.pH, w.dH), windowCount(size[1], w.kW, w.sW, w.pW, w.dW)];
}

/** The image's size and the window's counts along it (checked >= 1) as the kernels take them. */
function columnsGeometry(
  batch: number,
  channels: number,
  [height, width]: Pair,
  counts: [Size, Size],
  window: Window,
): ColumnsGeometry {
  return { batch, channels, height, width, colH: Number(counts[0].value), colW: Number(counts[1].value), ...window };
}

/** The kernels read every column once (a copy or an add per element). */
function columnsPlan<S extends Readonly<Record<string, Shape>>>(
  geometry: ColumnsGeometry,
  batched: boolean,
  given: ShapeField,
  results: S,
  columns: Shape,
  limits: Limits,
): Omit<ColumnsPlan<never>, 'shapes'> & { readonly shapes: S } {
  const sizes = checkSizes({ given: [given], results, scratch: [], macs: columns }, limits);
  return { geometry, batched, shapes: results, ...sizes };
}

export function im2col(t: { input: Shape }, p: WindowParams, limits: Limits): ColumnsPlan<'columns'> {
  const input = tensorField('input', t.input);
  checkImage(input);
  checkWindowParams(p);
  const window = toWindow(p.kernelSize, p);
  const { c, h, w } = imageAxes(input);
  const [channels, height, width] = [input.shape[c], input.shape[h], input.shape[w]];
  const counts = windowCounts([height, width], window);
  counts.forEach((count, axis) => {
    if (count.value < 1n) {
      throw new OpError(
        422,
        input.at(h + axis),
        `${quote(input, h + axis)} leaves no room for a sliding window along the ${AXES[axis]}: ${count.formula}`,
      );
    }
  });
  const rows = product([channels, window.kH, window.kW]);
  const positions = counts[0].value * counts[1].value;
  const columns = [
    resultDim(
      'columns',
      { value: rows, formula: `C * kH * kW = ${channels} * ${window.kH} * ${window.kW} = ${rows}` },
      'rows',
    ),
    resultDim(
      'columns',
      { value: positions, formula: `${counts[0].value} * ${counts[1].value} = ${positions}` },
      'window positions',
    ),
  ];
  const batched = input.shape.length === 4;
  const batch = batchOf(input);
  const geometry = columnsGeometry(batch, channels, [height, width], counts, window);
  const shape = batched ? [batch, ...columns] : columns;
  return columnsPlan(geometry, batched, input, { columns: shape }, shape, limits);
}

export function col2im(
  t: { columns: Shape; outputSize: Pair },
  p: WindowParams,
  limits: Limits,
): ColumnsPlan<'output'> {
  const columns = tensorField('columns', t.columns);
  checkShape(columns, [2, 3], '[N, C * kH * kW, L] or unbatched [C * kH * kW, L]');
  checkPair('outputSize', t.outputSize, 1);
  checkWindowParams(p);
  const window = toWindow(p.kernelSize, p);
  const rank = columns.shape.length;
  const [rowAxis, positionAxis] = [rank - 2, rank - 1];
  const taps = BigInt(window.kH) * BigInt(window.kW);
  if (BigInt(columns.shape[rowAxis]) % taps !== 0n) {
    throw new OpError(
      422,
      columns.at(rowAxis),
      `${quote(columns, rowAxis)} must be divisible by kernelSize[0] * kernelSize[1] (${window.kH} * ${window.kW} = ${taps})`,
    );
  }
  const [height, width] = t.outputSize;
  const counts = windowCounts([height, width], window);
  counts.forEach((count, axis) => {
    if (count.value < 1n) {
      throw new OpError(
        422,
        `outputSize[${axis}]`,
        `outputSize[${axis}] (${t.outputSize[axis]}) leaves no room for a sliding window along the ${AXES[axis]}: ${count.formula}`,
      );
    }
  });
  const positions = counts[0].value * counts[1].value;
  if (BigInt(columns.shape[positionAxis]) !== positions) {
    throw new OpError(
      422,
      columns.at(positionAxis),
      `${quote(columns, positionAxis)} must equal the number of sliding windows that outputSize and the params give, ` +
        `${counts[0].value} * ${counts[1].value} = ${positions} (height: ${counts[0].formula}; width: ${counts[1].formula})`,
    );
  }
  const batched = rank === 3;
  const batch = batched ? columns.shape[0] : 1;
  const channels = Number(BigInt(columns.shape[rowAxis]) / taps);
  const geometry = columnsGeometry(batch, channels, [height, width], counts, window);
  return columnsPlan(
    geometry,
    batched,
    columns,
    { output: imageShape(batched, batch, channels, height, width) },
    columns.shape,
    limits,
  );
}
