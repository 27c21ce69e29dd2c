/** The numbers the page puts in its tensors: small, readable patterns a newcomer can follow. */
import type { Size } from './geometry.js';

export const PRESETS = {
  ramp: '1, 2, 3, …',
  ones: 'all 1',
  'one-hot': 'a single 1',
  random: 'random 0…9',
} as const;
export type Preset = keyof typeof PRESETS;

export const isPreset = (v: string): v is Preset => Object.hasOwn(PRESETS, v);

/** A small deterministic generator (mulberry32), so a link reproduces the same "random" values. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Row-major values of a `size` grid following `preset`; one-hot puts its 1 in the middle. */
export function fill(preset: Preset, size: Size, seed = 1): number[] {
  const n = Math.max(0, size.rows) * Math.max(0, size.cols);
  switch (preset) {
    case 'ramp':
      return Array.from({ length: n }, (_, i) => i + 1);
    case 'ones':
      return new Array<number>(n).fill(1);
    case 'one-hot': {
      const middle = Math.floor((size.rows - 1) / 2) * size.cols + Math.floor((size.cols - 1) / 2);
      return Array.from({ length: n }, (_, i) => (i === middle ? 1 : 0));
    }
    case 'random': {
      const next = random(seed);
      return Array.from({ length: n }, () => Math.floor(next() * 10));
    }
  }
}
