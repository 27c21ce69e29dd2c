/** Turns a checked convolution geometry into a plan: result shapes, scratch, cost and the 413 rules. */
import type { ConvGeometry } from '../../workers/geometry.js';
import type { ShapeField } from './fields.js';
import { imageShape } from './fields.js';
import { checkSizes } from './limits.js';
import type { ConvPlan, Limits, Shape } from './types.js';

export function inputShapeOf(g: ConvGeometry, batched: boolean): Shape {
  return imageShape(batched, g.batch, g.inChannels, g.inH, g.inW);
}

export function outputShapeOf(g: ConvGeometry, batched: boolean): Shape {
  return imageShape(batched, g.batch, g.outChannels, g.outH, g.outW);
}

/**
 * One pass's column buffer (for one group and one sample) and multiply-adds. The GEMM of a
 * transposed convolution runs over the input's grid, a plain convolution's over its output's.
 */
function passCost(g: ConvGeometry): { scratch: number[]; macs: number[] } {
  if (g.kind === 'conv-transpose2d') {
    const scratch = [g.outChannels / g.groups, g.kH, g.kW, g.inH, g.inW];
    return { scratch, macs: [g.batch, g.inChannels, ...scratch] };
  }
  const scratch = [g.inChannels / g.groups, g.kH, g.kW, g.outH, g.outW];
  return { scratch, macs: [g.batch, g.outChannels, ...scratch] };
}

/** `shapes` may omit optional results (gradBias when computeBias is false). */
export function convPlan<S extends Readonly<Record<string, Shape | undefined>>>(
  geometry: ConvGeometry,
  batched: boolean,
  given: readonly (ShapeField | undefined)[],
  shapes: S,
  /** How many GEMM passes the request runs: backward runs grad-input and grad-parameters. */
  passes: number,
  limits: Limits,
): Omit<ConvPlan<never>, 'shapes'> & { readonly shapes: S } {
  const cost = passCost(geometry);
  const sizes = checkSizes(
    {
      given: given.filter((f): f is ShapeField => f !== undefined),
      results: shapes,
      scratch: cost.scratch,
      macs: passes === 1 ? cost.macs : [passes, ...cost.macs],
    },
    limits,
  );
  return { geometry, batched, shapes, ...sizes };
}
