import type { ConvGeometry } from '../../../workers/geometry.js';
import { addBiasReference } from './bias.js';

/**
 * The taps of a plain convolution, the textbook sum: output pixel (n, oc, oh, ow) gathers
 * input[n, group*Cin/groups + ci, oh*sH - pH + kh*dH, ow*sW - pW + kw*dW] * weight[oc, ci, kh, kw]
 * over ci, kh, kw, skipping input positions in the padding; weight [Cout, Cin/groups, kH, kW].
 * Forward and both gradients are sums over these same taps.
 */
function forEachTap(g: ConvGeometry, visit: (input: number, weight: number, output: number) => void): void {
  const inPerGroup = g.inChannels / g.groups;
  const outPerGroup = g.outChannels / g.groups;
  for (let n = 0; n < g.batch; n++) {
    for (let oc = 0; oc < g.outChannels; oc++) {
      const group = Math.floor(oc / outPerGroup);
      for (let oh = 0; oh < g.outH; oh++) {
        for (let ow = 0; ow < g.outW; ow++) {
          const y = ((n * g.outChannels + oc) * g.outH + oh) * g.outW + ow;
          for (let ci = 0; ci < inPerGroup; ci++) {
            const ic = group * inPerGroup + ci;
            for (let kh = 0; kh < g.kH; kh++) {
              const ih = oh * g.sH - g.pH + kh * g.dH;
              if (ih < 0 || ih >= g.inH) continue;
              for (let kw = 0; kw < g.kW; kw++) {
                const iw = ow * g.sW - g.pW + kw * g.dW;
                if (iw < 0 || iw >= g.inW) continue;
                visit(
                  ((n * g.inChannels + ic) * g.inH + ih) * g.inW + iw,
                  ((oc * inPerGroup + ci) * g.kH + kh) * g.kW + kw,
                  y,
                );
              }
            }
          }
        }
      }
    }
  }
}

export function conv2dForwardReference(
  g: ConvGeometry,
  input: ArrayLike<number>,
  weight: ArrayLike<number>,
  bias: ArrayLike<number> | null,
): Float64Array {
  const output = new Float64Array(g.batch * g.outChannels * g.outH * g.outW);
  forEachTap(g, (x, w, y) => {
    output[y] += input[x] * weight[w];
  });
  if (bias !== null) addBiasReference(g, bias, output);
  return output;
}

/** dL/dinput[x] = sum over the taps reading x of gradOutput[y] * weight[w]. */
export function conv2dGradInputReference(
  g: ConvGeometry,
  gradOutput: ArrayLike<number>,
  weight: ArrayLike<number>,
): Float64Array {
  const gradInput = new Float64Array(g.batch * g.inChannels * g.inH * g.inW);
  forEachTap(g, (x, w, y) => {
    gradInput[x] += gradOutput[y] * weight[w];
  });
  return gradInput;
}

/** dL/dweight[w] = sum over the taps through w of input[x] * gradOutput[y]. */
export function conv2dGradWeightReference(
  g: ConvGeometry,
  input: ArrayLike<number>,
  gradOutput: ArrayLike<number>,
): Float64Array {
  const gradWeight = new Float64Array((g.inChannels * g.outChannels * g.kH * g.kW) / g.groups);
  forEachTap(g, (x, w, y) => {
    gradWeight[w] += input[x] * gradOutput[y];
  });
  return gradWeight;
}
