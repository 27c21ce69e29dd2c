/**
 * Best-of timing for a noisy shared machine: one warm-up call, then repeats until `budgetMs`
 * has passed (at least `minRuns`, at most `maxRuns`); the fastest run is the one least disturbed
 * by other processes, so ratios taken within one run compare like with like.
 */
export function bestMs(fn: () => void, budgetMs = 600, minRuns = 3, maxRuns = 50): number {
  fn();
  let best = Infinity;
  const start = performance.now();
  for (let run = 0; run < maxRuns && (run < minRuns || performance.now() - start < budgetMs); run++) {
    const t0 = performance.now();
    fn();
    best = Math.min(best, performance.now() - t0);
  }
  return best;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** A plain-text table with right-aligned columns after the first. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: readonly string[]) =>
    `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
  return [
    line(header),
    `|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`,
    ...rows.map(line),
  ].join('\n');
}
