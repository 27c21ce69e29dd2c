/** Range checks (400) and cross-parameter rules (422) of the hyper-parameters, and the Window they give. */
import type { Window } from '../../workers/geometry.js';
import { OpError } from './errors.js';
import { checkInt, checkPair } from './guards.js';
import type { ConvParams, Pair, WindowParams } from './types.js';

type Kind = 'conv2d' | 'conv-transpose2d';

function checkSlidingParams(p: { readonly stride: Pair; readonly padding: Pair; readonly dilation: Pair }): void {
  checkPair('stride', p.stride, 1);
  checkPair('padding', p.padding, 0);
  checkPair('dilation', p.dilation, 1);
}

export function checkConvParams(p: ConvParams, kind: Kind): void {
  checkSlidingParams(p);
  checkPair('outputPadding', p.outputPadding, 0);
  if (kind === 'conv2d') {
    p.outputPadding.forEach((a, i) => {
      if (a !== 0)
        throw new OpError(400, `outputPadding[${i}]`, `conv2d takes no outputPadding, got outputPadding[${i}] = ${a}`);
    });
  }
  checkInt('groups', p.groups, 1);
}

export function checkWindowParams(p: WindowParams): void {
  checkPair('kernelSize', p.kernelSize, 1);
  checkSlidingParams(p);
}

/**
 * PyTorch's rule: the extra rows of a transposed output must come from a stride or a dilation
 * gap, or they would be a row no kernel tap reaches.
 */
export function checkOutputPadding(p: ConvParams): void {
  p.outputPadding.forEach((a, i) => {
    const s = p.stride[i];
    const d = p.dilation[i];
    if (!(a < s || a < d)) {
      throw new OpError(
        422,
        `outputPadding[${i}]`,
        `output padding must be smaller than either stride or dilation, but got outputPadding[${i}] (${a}) ` +
          `with stride[${i}] (${s}) and dilation[${i}] (${d})`,
      );
    }
  });
}

export function toWindow(
  kernel: Pair,
  p: { readonly stride: Pair; readonly padding: Pair; readonly dilation: Pair },
): Window {
  return {
    kH: kernel[0],
    kW: kernel[1],
    sH: p.stride[0],
    sW: p.stride[1],
    pH: p.padding[0],
    pW: p.padding[1],
    dH: p.dilation[0],
    dW: p.dilation[1],
  };
}
