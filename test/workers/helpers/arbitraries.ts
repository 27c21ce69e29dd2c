import fc from 'fast-check';
import type { ColumnsGeometry, ConvGeometry, Dtype } from '../../../workers/geometry.js';
import { columnsGeometry, conv2dGeometry, convolvedSize, convTranspose2dGeometry, hasOutput } from './geometry.js';

/** Every property runs from this seed, so a failure reproduces. */
export const seeded = (numRuns: number): fc.Parameters<unknown> => ({ seed: 42, numRuns });

export const dtypes = fc.constantFrom<Dtype>('float32', 'float64');

/** Seeds for the value streams of a case's tensors. */
export const dataSeed = fc.integer({ min: 0, max: 2 ** 31 - 1 });

/** A random scale for grad-parameters, 1 included often because it is the default. */
export const scales = fc.oneof(fc.constant(1), fc.double({ min: -2, max: 2, noNaN: true }));

export interface Bounds {
  readonly maxBatch: number;
  readonly maxSize: number;
  readonly maxChannels: number;
}

const small: Bounds = { maxBatch: 2, maxSize: 7, maxChannels: 4 };

const window = fc.record({
  kH: fc.integer({ min: 1, max: 4 }),
  kW: fc.integer({ min: 1, max: 4 }),
  sH: fc.integer({ min: 1, max: 3 }),
  sW: fc.integer({ min: 1, max: 3 }),
  pH: fc.integer({ min: 0, max: 2 }),
  pW: fc.integer({ min: 0, max: 2 }),
  dH: fc.integer({ min: 1, max: 3 }),
  dW: fc.integer({ min: 1, max: 3 }),
});

/** Groups 1-3 and channel counts they divide, each at most maxChannels. */
const channels = (b: Bounds) =>
  fc.integer({ min: 1, max: Math.min(3, b.maxChannels) }).chain((groups) =>
    fc.record({
      groups: fc.constant(groups),
      inChannels: fc.integer({ min: 1, max: Math.floor(b.maxChannels / groups) }).map((c) => c * groups),
      outChannels: fc.integer({ min: 1, max: Math.floor(b.maxChannels / groups) }).map((c) => c * groups),
    }),
  );

const convSpec = (b: Bounds) =>
  fc
    .tuple(
      window,
      channels(b),
      fc.record({
        batch: fc.integer({ min: 1, max: b.maxBatch }),
        inH: fc.integer({ min: 1, max: b.maxSize }),
        inW: fc.integer({ min: 1, max: b.maxSize }),
        aH: fc.integer({ min: 0, max: 2 }),
        aW: fc.integer({ min: 0, max: 2 }),
      }),
    )
    .map(([w, c, s]) => ({ ...w, ...c, ...s }));

/** PyTorch's rule: each outputPadding is below its stride or below its dilation. */
const legalOutputPadding = (g: ConvGeometry): boolean => (g.aH < g.sH || g.aH < g.dH) && (g.aW < g.sW || g.aW < g.dW);

export function convTranspose2dGeometries(b: Bounds = small): fc.Arbitrary<ConvGeometry> {
  return convSpec(b)
    .map(convTranspose2dGeometry)
    .filter((g) => hasOutput(g) && legalOutputPadding(g));
}

export function conv2dGeometries(b: Bounds = small): fc.Arbitrary<ConvGeometry> {
  return convSpec(b).map(conv2dGeometry).filter(hasOutput);
}

export function convGeometries(kind: ConvGeometry['kind'], b: Bounds = small): fc.Arbitrary<ConvGeometry> {
  return kind === 'conv2d' ? conv2dGeometries(b) : convTranspose2dGeometries(b);
}

/**
 * im2col / col2im geometries. With anyGrid the column grid is drawn around the unfold formula's
 * (from 1 to two past it) instead of taken from it: the kernels must honour whatever grid they
 * are given, as a transposed convolution's grid is not the formula's.
 */
export function columnsGeometries(anyGrid: boolean): fc.Arbitrary<ColumnsGeometry> {
  const spec = fc
    .tuple(
      window,
      fc.record({
        batch: fc.integer({ min: 1, max: 2 }),
        channels: fc.integer({ min: 1, max: 4 }),
        height: fc.integer({ min: 1, max: 7 }),
        width: fc.integer({ min: 1, max: 7 }),
      }),
    )
    .map(([w, s]) => columnsGeometry({ ...w, ...s }))
    .filter(hasOutput);
  if (!anyGrid) return spec;
  return spec.chain((g) =>
    fc
      .record({
        colH: fc.integer({ min: 1, max: convolvedSize(g.height, g.kH, g.sH, g.pH, g.dH) + 2 }),
        colW: fc.integer({ min: 1, max: convolvedSize(g.width, g.kW, g.sW, g.pW, g.dW) + 2 }),
      })
      .map((grid) => ({ ...g, ...grid })),
  );
}
