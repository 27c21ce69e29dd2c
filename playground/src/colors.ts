/** Heat-map colours for the values the API returns: viridis, dark (low) to yellow (high). */

const VIRIDIS: readonly [number, number, number][] = [
  [68, 1, 84],
  [72, 40, 120],
  [62, 74, 137],
  [49, 104, 142],
  [38, 130, 142],
  [31, 158, 137],
  [53, 183, 121],
  [109, 205, 89],
  [180, 222, 44],
  [253, 231, 37],
];

export interface Swatch {
  /** The cell's fill, `rgb(r, g, b)`. */
  readonly fill: string;
  /** A text colour that reads on it. */
  readonly ink: string;
}

/** The colour of `value` on a scale from `lo` to `hi`; a flat scale gives its middle colour. */
export function heat(value: number, lo: number, hi: number): Swatch {
  const t = !Number.isFinite(value)
    ? value > 0
      ? 1
      : 0
    : hi > lo
      ? Math.min(1, Math.max(0, (value - lo) / (hi - lo)))
      : 0.5;
  const x = t * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(x));
  const f = x - i;
  const [r, g, b] = VIRIDIS[i].map((c, j) => Math.round(c + (VIRIDIS[i + 1][j] - c) * f));
  const luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b;
  return { fill: `rgb(${r}, ${g}, ${b})`, ink: luminance > 140 ? '#111' : '#fff' };
}

/** The stops of the scale, for the legend. */
export const scaleStops = (): string[] => VIRIDIS.map(([r, g, b]) => `rgb(${r}, ${g}, ${b})`);
