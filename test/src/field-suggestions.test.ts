import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { knownFields, suggestField } from '../../src/field-suggestions.js';
import { opRoutes } from '../../src/routes/op-routes.js';
import { build } from '../helpers/build.js';
import { send } from '../helpers/http.js';

const forwardBody = opRoutes.find((r) => r.op === 'conv-transpose2d/forward')!.body;

describe('knownFields', () => {
  it("reads a route body's fields, and a tensor's inside it", () => {
    assert.ok(knownFields(forwardBody, []).includes('outputPadding'));
    assert.deepEqual(knownFields(forwardBody, ['input']).sort(), ['b64', 'data', 'dtype', 'shape']);
    assert.deepEqual(knownFields(forwardBody, ['nowhere']), []);
  });
});

describe('suggestField', () => {
  const known = ['input', 'weight', 'bias', 'stride', 'padding', 'outputPadding', 'dilation', 'groups'];
  it('names the field a /v2 or other spelling means', () => {
    assert.equal(suggestField('output_padding', known), 'the field is spelled "outputPadding" here');
    assert.equal(suggestField('Stride', known), 'the field is spelled "stride" here');
  });
  it('suggests a near field, and nothing for a far one', () => {
    assert.equal(suggestField('strides', known), 'did you mean "stride"?');
    assert.equal(suggestField('dillation', known), 'did you mean "dilation"?');
    assert.equal(suggestField('kernel', known), null);
    assert.equal(suggestField('x'.repeat(1000), known), null);
  });
});

describe('an unknown field in a request', () => {
  it('is answered with the field it most likely meant', async (t) => {
    const app = await build(t);
    const body = {
      input: { shape: [1, 1, 2, 2], data: [1, 2, 3, 4], shapes: 1 },
      weight: { shape: [1, 1, 1, 1], data: [1] },
      strides: 2,
      output_padding: 1,
    };
    const res = await send(app, { method: 'POST', url: '/v1/conv-transpose2d/forward', payload: body });
    assert.equal(res.statusCode, 400);
    const messages = Object.fromEntries(
      (res.json().errors as { path: string; message: string }[]).map((e) => [e.path, e.message]),
    );
    assert.equal(messages.strides, 'is not a known field; did you mean "stride"?');
    assert.equal(messages.output_padding, 'is not a known field; the field is spelled "outputPadding" here');
    assert.equal(messages['input.shapes'], 'is not a known field; did you mean "shape"?');
  });
});
