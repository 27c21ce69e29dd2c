/**
 * The words the playground shows: size formulas with the current numbers filled in, and one
 * sentence per parameter saying what its current value does. Pure, like geometry.ts.
 */
import { type Axis, convLength, type Geometry, type Op, span, type Touch, transposedLength } from './geometry.js';

export interface Formula {
  /** The general form, e.g. `Ho = (H − 1)·stride − …`. */
  readonly general: string;
  /** The same with this setting's numbers, ending in `= value`. */
  readonly filled: string;
  readonly value: number;
}

const names = { rows: { n: 'H', o: 'Ho', k: 'kH' }, cols: { n: 'W', o: 'Wo', k: 'kW' } } as const;

const transposedFormula = (n: number, a: Axis, axis: 'rows' | 'cols'): Formula => {
  const v = names[axis];
  return {
    general: `${v.o} = (${v.n} − 1)·stride − 2·padding + dilation·(${v.k} − 1) + outputPadding + 1`,
    filled: `(${n} − 1)·${a.stride} − 2·${a.padding} + ${a.dilation}·(${a.kernel} − 1) + ${a.outputPadding} + 1 = ${transposedLength(n, a)}`,
    value: transposedLength(n, a),
  };
};

const convFormula = (n: number, a: Axis, axis: 'rows' | 'cols', out: string = names[axis].o): Formula => {
  const v = names[axis];
  return {
    general: `${out} = ⌊(${v.n} + 2·padding − dilation·(${v.k} − 1) − 1) / stride⌋ + 1`,
    filled: `⌊(${n} + 2·${a.padding} − ${a.dilation}·(${a.kernel} − 1) − 1) / ${a.stride}⌋ + 1 = ${convLength(n, a)}`,
    value: convLength(n, a),
  };
};

/** The formulas that give the output's size, one per line. */
export function sizeFormulas(g: Geometry): Formula[] {
  const { height, width, op } = g.settings;
  if (op === 'conv-transpose2d')
    return [transposedFormula(height, g.rowAxis, 'rows'), transposedFormula(width, g.colAxis, 'cols')];
  const rows = convFormula(height, g.rowAxis, 'rows', op === 'conv2d' ? 'Ho' : 'Lh');
  const cols = convFormula(width, g.colAxis, 'cols', op === 'conv2d' ? 'Wo' : 'Lw');
  if (op === 'conv2d') return [rows, cols];
  const positions = rows.value * cols.value;
  const taps = g.rowAxis.kernel * g.colAxis.kernel;
  return [
    rows,
    cols,
    {
      general: 'L = Lh·Lw window positions (columns)',
      filled: `${rows.value}·${cols.value} = ${positions}`,
      value: positions,
    },
    {
      general: 'kH·kW kernel taps (rows, one channel)',
      filled: `${g.rowAxis.kernel}·${g.colAxis.kernel} = ${taps}`,
      value: taps,
    },
  ];
}

export interface Explanation {
  readonly param: 'stride' | 'padding' | 'outputPadding' | 'dilation' | 'op';
  readonly text: string;
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

function transposedExplanations(g: Geometry): Explanation[] {
  const a = g.rowAxis;
  const s = a.stride;
  const k = span(a);
  const base = transposedLength(g.settings.height, { ...a, outputPadding: 0 });
  const stride =
    s === 1
      ? `stride 1: neighbouring input pixels stamp the kernel 1 output pixel apart, so the stamps overlap and their contributions add up.`
      : `stride ${s}: each input pixel stamps the kernel ${s} output pixels further along than its neighbour, so the output is about ${s}× the input. ` +
        (k > s
          ? `A stamp is ${k} pixels wide, more than ${s}: neighbouring stamps overlap and add up (the uneven heat map).`
          : k < s
            ? `A stamp is only ${k} pixels wide: gaps of ${s - k} pixels stay 0.`
            : `A stamp is exactly ${k} pixels wide: stamps tile without overlap.`);
  const padding =
    a.padding === 0
      ? `padding 0: nothing is cut off; the output is the whole scatter of stamps.`
      : `padding ${a.padding}: ${plural(a.padding, 'row')} and ${plural(a.padding, 'column')} are cut off each edge of the scatter (hatched cells), so padding makes a transposed convolution's output smaller. It undoes the padding of the convolution this one reverses.`;
  const sizes = Array.from({ length: s }, (_, i) => base + i).join(', ');
  const ambiguity =
    s > 1
      ? ` A stride-${s} convolution turns ${sizes} rows all into ${g.settings.height}; outputPadding chooses which comes back`
      : '';
  const extra = `outputPadding ${a.outputPadding}: ${plural(a.outputPadding, 'extra row')} at the bottom and columns at the right (marked +).`;
  const outputPadding =
    a.outputPadding === 0
      ? `outputPadding 0: no extra row or column.${ambiguity && `${ambiguity}.`}`
      : a.outputPadding < s
        ? `${extra}${ambiguity} (here ${base + a.outputPadding}).`
        : `${extra} It must be smaller than the stride or the dilation${a.outputPadding < a.dilation ? `; here the dilation (${a.dilation}) allows it` : ''}.`;
  return [
    {
      param: 'op',
      text: 'conv-transpose2d scatters: every input pixel adds a copy of the kernel, scaled by its value, into the output.',
    },
    { param: 'stride', text: stride },
    { param: 'padding', text: padding },
    { param: 'outputPadding', text: outputPadding },
    { param: 'dilation', text: dilation(g) },
  ];
}

function dilation(g: Geometry): string {
  const { rowAxis: r, colAxis: c } = g;
  return r.dilation === 1
    ? `dilation 1: the kernel's taps sit next to each other; a ${r.kernel}×${c.kernel} kernel covers ${span(r)}×${span(c)} pixels.`
    : `dilation ${r.dilation}: the kernel's taps are ${r.dilation} pixels apart (${r.dilation - 1}-pixel holes), so a ${r.kernel}×${c.kernel} kernel covers ${span(r)}×${span(c)} pixels with only ${r.kernel * c.kernel} taps.`;
}

function windowExplanations(g: Geometry): Explanation[] {
  const a = g.rowAxis;
  const op: Record<Exclude<Op, 'conv-transpose2d'>, string> = {
    conv2d:
      'conv2d gathers: every output pixel is the sum of the input window under the kernel, each pixel times its tap.',
    im2col:
      'im2col copies every window into one column: its kH·kW pixels, top-left to bottom-right, zeros from the padding.',
    col2im:
      'col2im adds every column back into the image: each value goes to the pixel it would have come from, and overlapping windows add up (so col2im does not undo im2col).',
  };
  const stride =
    a.stride === 1
      ? `stride 1: the window moves 1 pixel at a time.`
      : `stride ${a.stride}: the window jumps ${a.stride} pixels between neighbouring positions, so there are about ${a.stride}× fewer positions than pixels.`;
  const padding =
    a.padding === 0
      ? `padding 0: windows stay inside the image, so edge pixels are read by fewer windows.`
      : `padding ${a.padding}: a ring of ${a.padding} zero ${a.padding === 1 ? 'pixel' : 'pixels'} (hatched) surrounds the image, so windows can hang over its edge.` +
        (span(a) % 2 === 1 ? ` Padding ${(span(a) - 1) / 2} keeps the size at stride 1 for this kernel.` : '');
  return [
    { param: 'op', text: op[g.settings.op as Exclude<Op, 'conv-transpose2d'>] },
    { param: 'stride', text: stride },
    { param: 'padding', text: padding },
    { param: 'dilation', text: dilation(g) },
  ];
}

/** One sentence per parameter, about its current value. */
export const explanations = (g: Geometry): Explanation[] =>
  g.settings.op === 'conv-transpose2d' ? transposedExplanations(g) : windowExplanations(g);

/** What hovering does, for the hint under the grids. */
export function hoverHint(op: Op): string {
  switch (op) {
    case 'conv-transpose2d':
      return 'Hover or step through an input pixel to see the output pixels it reaches.';
    case 'conv2d':
      return 'Hover or step through an output pixel to see the input window it reads.';
    case 'im2col':
      return 'Hover or step through a column to see the window it copies.';
    case 'col2im':
      return 'Hover or step through a column to see where its values are added.';
  }
}

const range = (values: number[]) => {
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  return lo === hi ? `${lo}` : `${lo}…${hi}`;
};

/** A sentence about the touches of one window position, e.g. the output pixels an input pixel reaches. */
export function describeTouches(g: Geometry, w: { row: number; col: number }, touches: Touch[]): string {
  const inside = touches.filter((t) => t.inside);
  const cut = touches.length - inside.length;
  const where =
    inside.length === 0 ? '' : ` rows ${range(inside.map((t) => t.row))}, columns ${range(inside.map((t) => t.col))}`;
  const step = g.rowAxis.dilation > 1 ? ` (taps ${g.rowAxis.dilation} apart: dilation)` : '';
  const lost = cut === 0 ? '' : `; ${plural(cut, 'tap')} ${cut === 1 ? 'falls' : 'fall'} in the padding`;
  const at = `(${w.row}, ${w.col})`;
  switch (g.settings.op) {
    case 'conv-transpose2d':
      return `Input pixel ${at} × kernel → ${plural(inside.length, 'output pixel')}${where}${step}${lost}${cut === 0 ? '' : cut === 1 ? ' and is cut off' : ' and are cut off'}.`;
    case 'conv2d':
      return `Output pixel ${at} = Σ kernel × ${plural(inside.length, 'input pixel')}${where}${step}${lost}${cut === 0 ? '' : ' (zeros)'}.`;
    case 'im2col':
      return `Column ${w.row * g.windows.cols + w.col} is the window at position ${at}:${where}${step}${lost}${cut === 0 ? '' : ' (zeros)'}.`;
    case 'col2im':
      return `Column ${w.row * g.windows.cols + w.col} is added into the window at position ${at}:${where}${step}${lost}${cut === 0 ? '' : cut === 1 ? ' and is dropped' : ' and are dropped'}.`;
  }
}
