/**
 * The geometry of a golden conv case, planned by src/ops the way a route plans it, so worker
 * suites can run the PyTorch golden vectors through runTask (test/golden/golden.test.ts does the
 * same for the default kernels and every route).
 */
import { conv2d, convTranspose2d } from '../../../src/ops/index.js';
import type { Limits, Shape } from '../../../src/ops/types.js';
import type { ConvGeometry } from '../../../workers/geometry.js';
import { GOLDEN_ROUTES, type GoldenRequest, type GoldenRoute, type GoldenTensor } from '../../golden/fixtures.js';
import { computeBiasOf, convParams, pair } from '../../golden/request.js';

const LIMITS: Limits = { maxElements: 1 << 24, maxMacs: 2 ** 36 };

export type ConvRoute = Extract<GoldenRoute, `/v1/conv${string}`>;

/** The golden routes of the two convolutions (im2col / col2im have no conv geometry). */
export const CONV_ROUTES = GOLDEN_ROUTES.filter((r): r is ConvRoute => r.startsWith('/v1/conv'));

function shape(r: GoldenRequest, field: 'input' | 'weight' | 'gradOutput'): Shape {
  const tensor = r[field];
  if (tensor === undefined) throw new Error(`the golden request has no ${field}`);
  return tensor.shape;
}

const optional = <K extends string>(key: K, tensor: GoldenTensor | undefined) =>
  (tensor === undefined ? {} : { [key]: tensor.shape }) as Partial<Record<K, Shape>>;

const forwardShapes = (r: GoldenRequest) => ({
  input: shape(r, 'input'),
  weight: shape(r, 'weight'),
  ...optional('bias', r.bias),
});
const backwardShapes = (r: GoldenRequest) => ({
  input: shape(r, 'input'),
  gradOutput: shape(r, 'gradOutput'),
  weight: shape(r, 'weight'),
  computeBias: computeBiasOf(r),
});
const gradParametersShapes = (r: GoldenRequest) => ({
  input: shape(r, 'input'),
  gradOutput: shape(r, 'gradOutput'),
  ...(r.kernelSize === undefined ? {} : { kernelSize: pair(r.kernelSize, 1) }),
  ...optional('gradWeight', r.gradWeight),
  ...optional('gradBias', r.gradBias),
  computeBias: computeBiasOf(r),
});
const inputShape = (r: GoldenRequest) => (r.inputShape === undefined ? {} : { inputShape: r.inputShape });

const planners: Record<ConvRoute, (r: GoldenRequest) => { geometry: unknown }> = {
  '/v1/conv-transpose2d/forward': (r) => convTranspose2d.forward(forwardShapes(r), convParams(r), LIMITS),
  '/v1/conv-transpose2d/grad-input': (r) =>
    convTranspose2d.gradInput(
      { gradOutput: shape(r, 'gradOutput'), weight: shape(r, 'weight'), ...inputShape(r) },
      convParams(r),
      LIMITS,
    ),
  '/v1/conv-transpose2d/grad-parameters': (r) =>
    convTranspose2d.gradParameters(gradParametersShapes(r), convParams(r), LIMITS),
  '/v1/conv-transpose2d/backward': (r) => convTranspose2d.backward(backwardShapes(r), convParams(r), LIMITS),
  '/v1/conv2d/forward': (r) => conv2d.forward(forwardShapes(r), convParams(r), LIMITS),
  '/v1/conv2d/grad-input': (r) => {
    if (r.inputShape === undefined) throw new Error('conv2d grad-input requests carry inputShape');
    return conv2d.gradInput(
      { gradOutput: shape(r, 'gradOutput'), weight: shape(r, 'weight'), inputShape: r.inputShape },
      convParams(r),
      LIMITS,
    );
  },
  '/v1/conv2d/grad-parameters': (r) => conv2d.gradParameters(gradParametersShapes(r), convParams(r), LIMITS),
  '/v1/conv2d/backward': (r) => conv2d.backward(backwardShapes(r), convParams(r), LIMITS),
};

export const goldenGeometry = (route: ConvRoute, request: GoldenRequest): ConvGeometry =>
  planners[route](request).geometry as ConvGeometry;
