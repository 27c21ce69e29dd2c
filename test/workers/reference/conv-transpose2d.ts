import type { ConvGeometry } from '../../../workers/geometry.js';
import { addBiasReference } from './bias.js';

/**
 * The taps of a transposed convolution, from its definition: input pixel (n, ci, ih, iw) scatters
 * input * weight[ci, co, kh, kw] into output pixel (n, group*Cout/groups + co,
 * ih*sH - pH + kh*dH, iw*sW - pW + kw*dW) when that lies inside the output; weight
 * [Cin, Cout/groups, kH, kW]. Forward and both gradients are sums over these same taps.
 */
function forEachTap(g: ConvGeometry, visit: (input: number, weight: number, output: number) => void): void {
  const inPerGroup = g.inChannels / g.groups;
  const outPerGroup = g.outChannels / g.groups;
  for (let n = 0; n < g.batch; n++) {
    for (let ci = 0; ci < g.inChannels; ci++) {
      const group = Math.floor(ci / inPerGroup);
      for (let co = 0; co < outPerGroup; co++) {
        const oc = group * outPerGroup + co;
        for (let kh = 0; kh < g.kH; kh++) {
          for (let kw = 0; kw < g.kW; kw++) {
            const w = ((ci * outPerGroup + co) * g.kH + kh) * g.kW + kw;
            for (let ih = 0; ih < g.inH; ih++) {
              const oh = ih * g.sH - g.pH + kh * g.dH;
              if (oh < 0 || oh >= g.outH) continue;
              for (let iw = 0; iw < g.inW; iw++) {
                const ow = iw * g.sW - g.pW + kw * g.dW;
                if (ow < 0 || ow >= g.outW) continue;
                visit(
                  ((n * g.inChannels + ci) * g.inH + ih) * g.inW + iw,
                  w,
                  ((n * g.outChannels + oc) * g.outH + oh) * g.outW + ow,
                );
              }
            }
          }
        }
      }
    }
  }
}

export function convTranspose2dForwardReference(
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

/** dL/dinput[x] = sum over the taps from x of gradOutput[y] * weight[w]. */
export function convTranspose2dGradInputReference(
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
export function convTranspose2dGradWeightReference(
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
