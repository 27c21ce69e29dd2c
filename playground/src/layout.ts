/** Which cells each panel draws, for a geometry and the values known so far. */
import type { CellSpec, GridSpec } from './draw.js';
import { type Geometry, imageExtent, type Size, span, tapOfRow, windowOfColumn } from './geometry.js';

const at = (values: readonly number[] | undefined, i: number) => (values && i < values.length ? values[i] : undefined);

/**
 * The image (conv input, conv-transpose output, col2im output) with the padding its windows
 * touch: zeros a convolution reads, or what a transposed convolution's padding cuts off.
 */
export function imageGrid(g: Geometry, id: string, name: string, values?: readonly number[]): GridSpec {
  const e = imageExtent(g);
  const transposed = g.settings.op === 'conv-transpose2d';
  const cells: CellSpec[] = [];
  for (let row = e.rowFrom; row <= e.rowTo; row++) {
    for (let col = e.colFrom; col <= e.colTo; col++) {
      const x = col - e.colFrom;
      const y = row - e.rowFrom;
      const inside = row >= 0 && row < g.image.rows && col >= 0 && col < g.image.cols;
      if (!inside) {
        cells.push(
          transposed
            ? { row, col, x, y, kind: 'ghost', title: `(${row}, ${col}): cut off by padding` }
            : g.settings.op === 'col2im'
              ? { row, col, x, y, kind: 'ghost', title: `(${row}, ${col}): padding, what lands here is dropped` }
              : { row, col, x, y, kind: 'ghost', label: '0', title: `(${row}, ${col}): padding, reads as 0` },
        );
        continue;
      }
      const value = at(values, row * g.image.cols + col);
      const extra =
        transposed && (row >= g.image.rows - g.rowAxis.outputPadding || col >= g.image.cols - g.colAxis.outputPadding);
      const title = `${name} (${row}, ${col})${value === undefined ? '' : ` = ${value}`}${extra ? ', added by outputPadding' : ''}`;
      cells.push({ row, col, x, y, kind: extra ? 'extra' : 'real', value, title });
    }
  }
  const rows = e.rowTo - e.rowFrom + 1;
  const cols = e.colTo - e.colFrom + 1;
  return {
    id,
    rows,
    columns: cols,
    cells,
    rowLabels: Array.from({ length: rows }, (_, i) => String(e.rowFrom + i)),
    colLabels: Array.from({ length: cols }, (_, i) => String(e.colFrom + i)),
    frame: { x: -e.colFrom, y: -e.rowFrom, width: Math.max(0, g.image.cols), height: Math.max(0, g.image.rows) },
  };
}

/** A grid of `size` cells with no padding around it, labelled 0.. along both axes. */
function plainGrid(id: string, size: Size, cells: CellSpec[]): GridSpec {
  const rows = Math.max(0, size.rows);
  const columns = Math.max(0, size.cols);
  const labels = (n: number) => Array.from({ length: n }, (_, i) => String(i));
  return {
    id,
    rows,
    columns,
    cells,
    rowLabels: labels(rows),
    colLabels: labels(columns),
    frame: { x: 0, y: 0, width: columns, height: rows },
  };
}

/** A plain grid of window positions: conv-transpose input pixels or conv output pixels. */
export function windowGrid(size: Size, id: string, name: string, values?: readonly number[]): GridSpec {
  const cells: CellSpec[] = [];
  for (let row = 0; row < size.rows; row++) {
    for (let col = 0; col < size.cols; col++) {
      const value = at(values, row * size.cols + col);
      cells.push({
        row,
        col,
        x: col,
        y: row,
        kind: 'real',
        value,
        title: `${name} (${row}, ${col})${value === undefined ? '' : ` = ${value}`}`,
      });
    }
  }
  return plainGrid(id, size, cells);
}

/** The columns matrix of im2col / col2im: one row per kernel tap, one column per window position. */
export function columnsGrid(g: Geometry, id: string, values?: readonly number[]): GridSpec {
  const size = g.settings.op === 'im2col' ? g.output : g.input;
  const cells: CellSpec[] = [];
  for (let row = 0; row < size.rows; row++) {
    const tap = tapOfRow(g, row);
    for (let col = 0; col < size.cols; col++) {
      const w = windowOfColumn(g, col);
      const value = at(values, row * size.cols + col);
      const title = `column ${col} (window ${w.row}, ${w.col}), row ${row} (tap ${tap.row}, ${tap.col})${value === undefined ? '' : ` = ${value}`}`;
      cells.push({ row, col, x: col, y: row, kind: 'real', value, title });
    }
  }
  return plainGrid(id, size, cells);
}

/** The kernel as it lies on the image: its taps `dilation` pixels apart, holes between them. */
export function kernelGrid(g: Geometry, id: string, values: readonly number[] | undefined): GridSpec {
  const { rowAxis: r, colAxis: c } = g;
  const rows = span(r);
  const cols = span(c);
  const cells: CellSpec[] = [];
  for (let y = 0; y < rows; y++) {
    for (let x = 0; x < cols; x++) {
      if (y % r.dilation === 0 && x % c.dilation === 0) {
        const row = y / r.dilation;
        const col = x / c.dilation;
        const value =
          g.settings.op === 'im2col' || g.settings.op === 'col2im' ? undefined : at(values, row * c.kernel + col);
        const label = value === undefined ? `${row * c.kernel + col}` : undefined;
        cells.push({
          row,
          col,
          x,
          y,
          kind: 'real',
          value,
          label,
          title: `tap (${row}, ${col})${value === undefined ? '' : ` = ${value}`}`,
        });
      } else {
        cells.push({ row: -1 - y, col: -1 - x, x, y, kind: 'hole', title: 'a hole between dilated taps' });
      }
    }
  }
  return { id, rows, columns: cols, cells };
}
