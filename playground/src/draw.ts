/**
 * SVG grids: cells with heat-map colours and values, hatched padding, and classes the page
 * toggles to highlight what a pixel touches. Everything is attributes and classes, no inline
 * style, so the page runs under a strict Content-Security-Policy.
 */
import { heat } from './colors.js';
import type { Cell } from './geometry.js';

const SVG = 'http://www.w3.org/2000/svg';
const UNIT = 32;
const MARGIN = 22;

/** How a cell is drawn: a real pixel, padding (outside the tensor), an outputPadding extra, or a dilation hole. */
export type CellKind = 'real' | 'ghost' | 'extra' | 'hole';

export interface CellSpec extends Cell {
  /** Where it is drawn, in cells from the grid's top-left. */
  readonly x: number;
  readonly y: number;
  readonly kind: CellKind;
  readonly value?: number;
  /** Text drawn when no value is known (e.g. `0` in a convolution's padding). */
  readonly label?: string;
  readonly title: string;
}

export interface GridSpec {
  readonly id: string;
  readonly columns: number;
  readonly rows: number;
  readonly cells: readonly CellSpec[];
  /** Row and column numbers along the edges, by drawn position. */
  readonly rowLabels?: readonly string[];
  readonly colLabels?: readonly string[];
  /** The real tensor's outline, in drawn cells. */
  readonly frame?: { x: number; y: number; width: number; height: number };
}

const el = <K extends keyof SVGElementTagNameMap>(
  name: K,
  attrs: Record<string, string | number>,
): SVGElementTagNameMap[K] => {
  const node = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  return node;
};

/** A value short enough for a cell: integers as they are, others to 3 significant digits. */
export const shortValue = (v: number): string =>
  Number.isInteger(v) && Math.abs(v) < 1e5
    ? String(v)
    : Number.isFinite(v)
      ? v.toPrecision(3).replace(/\.?0+(e|$)/, '$1')
      : String(v);

const key = (c: Cell) => `${c.row},${c.col}`;

export class Grid {
  readonly svg: SVGSVGElement;
  private readonly byCell = new Map<string, SVGGElement>();
  private readonly marked = new Set<SVGGElement>();

  constructor(spec: GridSpec) {
    const width = MARGIN + spec.columns * UNIT + 2;
    const height = MARGIN + spec.rows * UNIT + 2;
    this.svg = el('svg', { id: spec.id, viewBox: `0 0 ${width} ${height}`, width, height, role: 'img', class: 'grid' });
    const values = spec.cells.filter((c) => c.value !== undefined && c.kind !== 'ghost').map((c) => c.value!);
    const finite = values.filter(Number.isFinite);
    const lo = finite.length ? Math.min(...finite) : 0;
    const hi = finite.length ? Math.max(...finite) : 0;
    for (const c of spec.cells) {
      const g = el('g', {
        class: `cell ${c.kind}`,
        'data-row': c.row,
        'data-col': c.col,
        transform: `translate(${MARGIN + c.x * UNIT} ${MARGIN + c.y * UNIT})`,
      });
      if (c.value !== undefined) g.setAttribute('data-value', String(c.value));
      const title = el('title', {});
      title.textContent = c.title;
      const rect = el('rect', { x: 1, y: 1, width: UNIT - 2, height: UNIT - 2, rx: 3 });
      g.append(title, rect);
      const text = c.value !== undefined ? shortValue(c.value) : c.label;
      if (c.value !== undefined && c.kind !== 'ghost') {
        const swatch = heat(c.value, lo, hi);
        rect.setAttribute('fill', swatch.fill);
        g.setAttribute('data-ink', swatch.ink === '#fff' ? 'light' : 'dark');
      }
      if (text !== undefined && c.kind !== 'hole') {
        const t = el('text', { x: UNIT / 2, y: UNIT / 2 + 1, class: text.length > 3 ? 'value small' : 'value' });
        t.textContent = text;
        g.append(t);
      }
      if (c.kind === 'extra') {
        const plus = el('text', { x: UNIT - 6, y: 9, class: 'plus' });
        plus.textContent = '+';
        g.append(plus);
      }
      this.svg.append(g);
      if (c.kind !== 'hole') this.byCell.set(key(c), g);
    }
    if (spec.frame) {
      const f = spec.frame;
      this.svg.append(
        el('rect', {
          class: 'frame',
          x: MARGIN + f.x * UNIT,
          y: MARGIN + f.y * UNIT,
          width: f.width * UNIT,
          height: f.height * UNIT,
          rx: 4,
        }),
      );
    }
    spec.colLabels?.forEach((label, x) => {
      const t = el('text', { class: 'axis', x: MARGIN + x * UNIT + UNIT / 2, y: MARGIN - 7 });
      t.textContent = label;
      this.svg.append(t);
    });
    spec.rowLabels?.forEach((label, y) => {
      const t = el('text', { class: 'axis', x: MARGIN / 2, y: MARGIN + y * UNIT + UNIT / 2 + 1 });
      t.textContent = label;
      this.svg.append(t);
    });
  }

  /** Adds `cls` to these cells (those not drawn are skipped). */
  mark(cells: Iterable<Cell>, cls: string): void {
    for (const c of cells) {
      const g = this.byCell.get(key(c));
      if (!g) continue;
      g.classList.add(cls);
      this.marked.add(g);
    }
    // Once anything is marked, the rest of the grid steps back.
    this.svg.classList.add('focused');
  }

  clearMarks(): void {
    for (const g of this.marked) g.classList.remove('hot', 'lit', 'lost');
    this.marked.clear();
    this.svg.classList.remove('focused');
  }

  /** Calls `handler` with the cell under the pointer (or focus), and null when it leaves the grid. */
  onPoint(handler: (cell: Cell | null) => void): void {
    const cellOf = (target: EventTarget | null): Cell | null => {
      const g = target instanceof Element ? target.closest('g.cell') : null;
      if (!g || g.classList.contains('hole')) return null;
      return { row: Number(g.getAttribute('data-row')), col: Number(g.getAttribute('data-col')) };
    };
    this.svg.addEventListener('pointerover', (e) => handler(cellOf(e.target)));
    this.svg.addEventListener('pointerleave', () => handler(null));
  }
}

/** A heat-map legend: the scale's colours from low to high. */
export function legend(stops: readonly string[]): SVGSVGElement {
  const svg = el('svg', {
    viewBox: `0 0 ${stops.length * 12} 10`,
    width: stops.length * 12,
    height: 10,
    class: 'legend',
  });
  stops.forEach((fill, i) => {
    svg.append(el('rect', { x: i * 12, y: 0, width: 12, height: 10, fill }));
  });
  return svg;
}
