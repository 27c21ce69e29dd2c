import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { assertClose, assertDtype, type GoldenCase, type GoldenRoute, loadGolden } from '../../golden/fixtures.js';
import { build } from '../../helpers/build.js';
import { loadLayer } from '../../helpers/layers.js';
import { outputsOf, postBinary, postJson, toV2, typed } from './wire.js';

/**
 * A stored layer answers as its stateless op does on the same tensors: every PyTorch golden case
 * of the conv passes, with its weight (and bias) stored and only its own tensors sent, gives the
 * reference values, and bit for bit the numbers of the stateless model's request carrying the
 * weight.
 */
let app: FastifyInstance;
before(async () => {
  app = await build(null);
});
after(() => app.close());

const snake = (s: string) => s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

const FIXED = /^(stride|padding|output_padding|dilation)_[hw]$|^groups$/;

const ROUTES: { route: GoldenRoute; pass: string }[] = [];
for (const op of ['conv-transpose2d', 'conv2d'])
  for (const pass of ['forward', 'grad-input', 'grad-parameters', 'backward'])
    ROUTES.push({ route: `/v1/${op}/${pass}` as GoldenRoute, pass: pass.replace('-', '_') });

/** The layer a golden case runs with: its weight, or a zero weight of the shape its tensors imply. */
function layerOf(route: GoldenRoute, c: GoldenCase) {
  const r = c.request;
  const transposed = route.includes('transpose');
  const { request } = toV2(r);
  const params = Object.fromEntries(Object.entries(request.parameters ?? {}).filter(([k]) => FIXED.test(k))) as Record<
    string,
    number
  >;
  const tensors: Record<string, { shape: readonly number[]; values: Float32Array | Float64Array }> = {};
  if (r.weight) tensors.weight = { shape: r.weight.shape, values: typed(r.weight) };
  else {
    const groups = r.groups ?? 1;
    const cin = r.input!.shape.at(-3)!;
    const cout = r.gradOutput!.shape.at(-3)!;
    const k =
      r.gradWeight?.shape.slice(2) ??
      (typeof r.kernelSize === 'number' ? [r.kernelSize, r.kernelSize] : [...r.kernelSize!]);
    const shape = transposed ? [cin, cout / groups, ...k] : [cout, cin / groups, ...k];
    const n = shape.reduce((a, b) => a * b, 1);
    tensors.weight = { shape, values: c.dtype === 'float64' ? new Float64Array(n) : new Float32Array(n) };
  }
  if (r.bias) tensors.bias = { shape: r.bias.shape, values: typed(r.bias) };
  return { spec: { op: transposed ? ('conv_transpose2d' as const) : ('conv2d' as const), params }, tensors };
}

/** The golden request less what the layer holds: weight, bias, its parameters and kernel size. */
function layerRequest(c: GoldenCase, pass: string, binary: boolean) {
  const { request, tensors } = toV2(c.request, { binary });
  const parameters = Object.fromEntries(
    Object.entries(request.parameters ?? {}).filter(([k]) => !FIXED.test(k) && !/^kernel_[hw]$/.test(k)),
  );
  const keep = request.inputs
    .map((input, i) => ({ input, tensor: tensors[i] }))
    .filter(({ input }) => !['weight', 'bias'].includes(input.name));
  return {
    request: { parameters: { ...parameters, pass }, inputs: keep.map((k) => k.input) },
    tensors: keep.map((k) => k.tensor),
  };
}

for (const { route, pass } of ROUTES) {
  describe(`a stored layer's ${pass} pass (${route.replace('/v1/', '')} golden cases)`, () => {
    const { cases } = loadGolden(route);
    it(`answers every case (${cases.length}) as PyTorch does, and as the stateless model does bit for bit`, async () => {
      for (const [i, c] of cases.entries()) {
        const name = `golden-${route.replace(/\W/g, '')}-${i}`;
        const { spec, tensors } = layerOf(route, c);
        const loaded = await loadLayer(app, name, spec, tensors);
        assert.equal(loaded.statusCode, 200, `${c.name}: ${loaded.body}`);
        const binary = i % 2 === 1;
        const req = layerRequest(c, pass, binary);
        const res = binary
          ? await postBinary(app, name, req.request, req.tensors as Float32Array[])
          : await postJson(app, name, req.request);
        assert.equal(res.status, 200, `${c.name}: ${res.body.toString()}`);
        const { header, values } = outputsOf(res);
        assert.equal(header.model_name, name);
        const stateless = toV2(c.request);
        const model = route
          .replace('/v1/', '')
          .replace(/\/forward$/, '')
          .replace(/[/-]/g, '_');
        const reference = outputsOf(await postJson(app, model, stateless.request)).values;
        for (const [field, want] of Object.entries(c.response)) {
          const out = snake(field);
          assert.ok(values[out], `${c.name}: ${out} missing`);
          assertDtype(values[out], c.dtype, out);
          assertClose(values[out], want!, c.dtype, `${c.name} ${out}`);
          assert.deepEqual(values[out], reference[out], `${c.name} ${out}: same numbers as the stateless model`);
        }
      }
    });
  });
}
