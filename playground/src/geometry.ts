/**
 * The geometry the playground draws, as pure functions: sizes, and which pixels a window
 * position touches. No DOM here, so node:test covers it (test/playground/geometry.test.ts)
 * and checks it against the service itself.
 *
 * One relation serves all four ops. Along one axis, window position `w` with kernel tap `t`
 * touches image pixel `w * stride - padding + t * dilation`:
 * - conv2d, im2col: the image is the input, the windows are the output pixels (they *read*);
 * - conv-transpose2d: the windows are the input pixels, the image is the output (they *write*);
 * - col2im: the windows are the columns, the image is the output (they *add into* it).
 */

export const OPS = ['conv-transpose2d', 'conv2d', 'im2col', 'col2im'] as const;
export type Op = (typeof OPS)[number];

/** Everything the page's controls set. One channel; the four parameters apply to both axes. */
export interface Settings {
  readonly op: Op;
  /** Input rows and columns (for col2im: the image it rebuilds, its outputSize). */
  readonly height: number;
  readonly width: number;
  readonly kernelHeight: number;
  readonly kernelWidth: number;
  readonly stride: number;
  readonly padding: number;
  /** conv-transpose2d only. */
  readonly outputPadding: number;
  readonly dilation: number;
}

/** One axis of a window relation. */
export interface Axis {
  readonly kernel: number;
  readonly stride: number;
  readonly padding: number;
  readonly dilation: number;
  readonly outputPadding: number;
}

export interface Size {
  readonly rows: number;
  readonly cols: number;
}

export interface Cell {
  readonly row: number;
  readonly col: number;
}

/** A pixel a window touches, and the kernel tap that touches it. */
export interface Touch extends Cell {
  readonly tap: Cell;
  /** False when the pixel lies outside the image: in the padding. */
  readonly inside: boolean;
}

/** A window position touching a given pixel, and with which tap. */
export interface Toucher {
  readonly window: Cell;
  readonly tap: Cell;
}

export interface Geometry {
  readonly settings: Settings;
  readonly rowAxis: Axis;
  readonly colAxis: Axis;
  /** The pixel grid the windows lie on. */
  readonly image: Size;
  /** The grid of window positions. */
  readonly windows: Size;
  /** What the request sends and the answer returns, as a 2-D grid (channels and batch are 1). */
  readonly input: Size;
  readonly output: Size;
}

/** The extent of one dilated kernel: `dilation * (kernel - 1) + 1` pixels. */
export const span = (a: Axis): number => a.dilation * (a.kernel - 1) + 1;

/** conv2d / im2col: `floor((n + 2p - d(k-1) - 1) / s) + 1` window positions on an n-pixel axis. */
export const convLength = (n: number, a: Axis): number => Math.floor((n + 2 * a.padding - span(a)) / a.stride) + 1;

/** conv-transpose2d: `(n-1)s - 2p + d(k-1) + outputPadding + 1` output pixels from n input pixels. */
export const transposedLength = (n: number, a: Axis): number =>
  (n - 1) * a.stride - 2 * a.padding + span(a) + a.outputPadding;

/** The image pixel window position `w` touches with tap `t`. */
export const touchedPixel = (a: Axis, w: number, t: number): number => w * a.stride - a.padding + t * a.dilation;

/** Every (window, tap) along an axis of `windows` positions that touches image pixel `x`. */
export function touchersOf(a: Axis, x: number, windows: number): { window: number; tap: number }[] {
  const found: { window: number; tap: number }[] = [];
  for (let t = 0; t < a.kernel; t++) {
    const offset = x + a.padding - t * a.dilation;
    if (offset % a.stride === 0) {
      const w = offset / a.stride;
      if (w >= 0 && w < windows) found.push({ window: w, tap: t });
    }
  }
  return found;
}

const axes = (s: Settings): [Axis, Axis] => {
  const common = {
    stride: s.stride,
    padding: s.padding,
    dilation: s.dilation,
    outputPadding: s.op === 'conv-transpose2d' ? s.outputPadding : 0,
  };
  return [
    { ...common, kernel: s.kernelHeight },
    { ...common, kernel: s.kernelWidth },
  ];
};

/** The grids of one setting. Sizes below 1 are kept as computed: the API says why they are invalid. */
export function geometry(settings: Settings): Geometry {
  const [rowAxis, colAxis] = axes(settings);
  const given: Size = { rows: settings.height, cols: settings.width };
  const kernelTaps = settings.kernelHeight * settings.kernelWidth;
  if (settings.op === 'conv-transpose2d') {
    const image = { rows: transposedLength(given.rows, rowAxis), cols: transposedLength(given.cols, colAxis) };
    return { settings, rowAxis, colAxis, image, windows: given, input: given, output: image };
  }
  const windows = { rows: convLength(given.rows, rowAxis), cols: convLength(given.cols, colAxis) };
  const columns = { rows: kernelTaps, cols: windows.rows * windows.cols };
  switch (settings.op) {
    case 'conv2d':
      return { settings, rowAxis, colAxis, image: given, windows, input: given, output: windows };
    case 'im2col':
      return { settings, rowAxis, colAxis, image: given, windows, input: given, output: columns };
    case 'col2im':
      return { settings, rowAxis, colAxis, image: given, windows, input: columns, output: given };
  }
}

export const isValidSize = (s: Size): boolean => s.rows >= 1 && s.cols >= 1;

/**
 * The pixels window position `w` touches, tap by tap (row-major over the kernel), including
 * those that fall in the padding. For conv-transpose2d these are the output pixels input pixel
 * `w` reaches; for conv2d, the input window output pixel `w` reads.
 */
export function windowPixels(g: Geometry, w: Cell): Touch[] {
  const touches: Touch[] = [];
  for (let ty = 0; ty < g.rowAxis.kernel; ty++) {
    for (let tx = 0; tx < g.colAxis.kernel; tx++) {
      const row = touchedPixel(g.rowAxis, w.row, ty);
      const col = touchedPixel(g.colAxis, w.col, tx);
      const inside = row >= 0 && row < g.image.rows && col >= 0 && col < g.image.cols;
      touches.push({ row, col, tap: { row: ty, col: tx }, inside });
    }
  }
  return touches;
}

/** The window positions touching image pixel `p`, with the tap each uses. */
export function pixelWindows(g: Geometry, p: Cell): Toucher[] {
  const found: Toucher[] = [];
  for (const r of touchersOf(g.rowAxis, p.row, g.windows.rows)) {
    for (const c of touchersOf(g.colAxis, p.col, g.windows.cols)) {
      found.push({ window: { row: r.window, col: c.window }, tap: { row: r.tap, col: c.tap } });
    }
  }
  return found;
}

/** conv-transpose2d: the output pixels input pixel (row, col) reaches; only those inside the output. */
export const reachedOutputs = (g: Geometry, input: Cell): Cell[] => windowPixels(g, input).filter((t) => t.inside);

/** conv2d: the input pixels output pixel (row, col) reads; padding taps read zeros and are left out. */
export const readInputs = (g: Geometry, output: Cell): Cell[] => windowPixels(g, output).filter((t) => t.inside);

/** im2col / col2im: the column of a window position, and the row of a kernel tap. */
export const columnOf = (g: Geometry, w: Cell): number => w.row * g.windows.cols + w.col;
export const rowOfTap = (g: Geometry, tap: Cell): number => tap.row * g.colAxis.kernel + tap.col;
export const windowOfColumn = (g: Geometry, column: number): Cell => ({
  row: Math.floor(column / g.windows.cols),
  col: column % g.windows.cols,
});
export const tapOfRow = (g: Geometry, row: number): Cell => ({
  row: Math.floor(row / g.colAxis.kernel),
  col: row % g.colAxis.kernel,
});

/**
 * The image area worth drawing: the image itself plus the padding any window touches
 * (rows and columns may be negative or past the image). For conv-transpose2d it is the full,
 * uncropped scatter of every stamp: padding crops it, outputPadding extends it.
 */
export function imageExtent(g: Geometry): { rowFrom: number; rowTo: number; colFrom: number; colTo: number } {
  const extent = (a: Axis, windows: number, pixels: number): [number, number] => {
    // A convolution's padding is a ring of zeros around its image, drawn whole.
    if (g.settings.op !== 'conv-transpose2d') return [-a.padding, pixels - 1 + a.padding];
    const last = touchedPixel(a, Math.max(windows, 1) - 1, a.kernel - 1);
    return [Math.min(-a.padding, 0), Math.max(last, pixels - 1)];
  };
  const [rowFrom, rowTo] = extent(g.rowAxis, g.windows.rows, g.image.rows);
  const [colFrom, colTo] = extent(g.colAxis, g.windows.cols, g.image.cols);
  return { rowFrom, rowTo, colFrom, colTo };
}
