/**
 * Resolves a golden request's params the way docs/api.md defines them, so the op tests can call the
 * validation module directly (the HTTP layer does this resolving in the real service).
 */
import type { ConvParams, Pair, WindowParams } from '../../src/ops/types.js';
import type { GoldenRequest, PairForm } from './fixtures.js';

/** One integer means both axes; absent means the default. */
export function pair(value: PairForm | undefined, fallback: number): Pair {
  if (value === undefined) return [fallback, fallback];
  return typeof value === 'number' ? [value, value] : [value[0], value[1]];
}

export function convParams(request: GoldenRequest): ConvParams {
  return {
    stride: pair(request.stride, 1),
    padding: pair(request.padding, 0),
    outputPadding: pair(request.outputPadding, 0),
    dilation: pair(request.dilation, 1),
    groups: request.groups ?? 1,
  };
}

export function windowParams(request: GoldenRequest): WindowParams {
  if (request.kernelSize === undefined) throw new Error('im2col / col2im requests carry kernelSize');
  return {
    kernelSize: pair(request.kernelSize, 1),
    stride: pair(request.stride, 1),
    padding: pair(request.padding, 0),
    dilation: pair(request.dilation, 1),
  };
}

export const scaleOf = (request: GoldenRequest): number => request.scale ?? 1;
export const computeBiasOf = (request: GoldenRequest): boolean => request.computeBias ?? true;
