import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fixedParameters, LayerConfigError, parseLayerConfig } from '../../../src/models/layer-config.js';

const sv = (v: string) => ({ string_value: v });
const config = (parameters: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ backend: 'convsvc', parameters, ...extra });
const refused = (text: string, message: RegExp) =>
  assert.throws(
    () => parseLayerConfig(text),
    (e: unknown) => e instanceof LayerConfigError && message.test(e.message),
  );

describe('layer configuration (Triton config.json)', () => {
  it("reads the op and its parameters from Triton-style string values, with the ops' defaults", () => {
    const c = parseLayerConfig(
      config(
        { op: sv('conv_transpose2d'), stride_h: sv('2'), stride_w: sv('2'), padding_h: sv('1'), padding_w: sv('1') },
        { name: 'up', max_batch_size: 0 },
      ),
    );
    assert.equal(c.kind, 'conv-transpose2d');
    assert.equal(c.name, 'up');
    assert.deepEqual(c.params, { groups: 1, stride: [2, 2], padding: [1, 1], outputPadding: [0, 0], dilation: [1, 1] });
    assert.deepEqual(fixedParameters(c.kind, c.params), {
      stride_h: 2,
      stride_w: 2,
      padding_h: 1,
      padding_w: 1,
      output_padding_h: 0,
      output_padding_w: 0,
      dilation_h: 1,
      dilation_w: 1,
      groups: 1,
    });
  });

  it('gives conv2d no output padding parameter', () => {
    const c = parseLayerConfig(config({ op: sv('conv2d'), groups: sv('2') }));
    assert.equal(c.kind, 'conv2d');
    assert.ok(!('output_padding_h' in fixedParameters(c.kind, c.params)));
  });

  it('refuses what is not a convsvc layer: other backends, unknown ops and fields, a batching config', () => {
    refused('not json', /not JSON/);
    refused(JSON.stringify({ backend: 'onnxruntime', parameters: { op: sv('conv2d') } }), /backend/);
    refused(config({ op: sv('linear') }), /parameters\.op/);
    refused(config({ op: sv('conv2d'), kernel_h: sv('3') }), /kernel_h|Unrecognized/);
    refused(config({ op: sv('conv2d') }, { instance_group: [] }), /instance_group|Unrecognized/);
    refused(config({ op: sv('conv2d') }, { max_batch_size: 8 }), /max_batch_size/);
    refused(config({}), /parameters\.op/);
  });

  it('refuses values that are not whole numbers in decimal, and half of a pair', () => {
    refused(config({ op: sv('conv2d'), stride_h: sv('-1'), stride_w: sv('1') }), /stride_h/);
    refused(config({ op: sv('conv2d'), stride_h: sv('1.5'), stride_w: sv('1') }), /stride_h/);
    refused(config({ op: sv('conv2d'), stride_h: 2, stride_w: sv('1') }), /stride_h/);
    refused(config({ op: sv('conv2d'), stride_h: sv('2') }), /stride_h and stride_w go together/);
  });

  it("applies the ops' own rules, in /v2 names: ranges, conv2d takes no output padding, PyTorch's output padding rule", () => {
    refused(config({ op: sv('conv2d'), stride_h: sv('0'), stride_w: sv('1') }), /stride_h/);
    refused(config({ op: sv('conv2d'), groups: sv('0') }), /groups/);
    refused(
      config({ op: sv('conv2d'), output_padding_h: sv('1'), output_padding_w: sv('0') }),
      /conv2d takes no output/,
    );
    refused(
      config({ op: sv('conv_transpose2d'), output_padding_h: sv('1'), output_padding_w: sv('1') }),
      /output padding must be smaller than either stride or dilation.*output_padding_h/,
    );
  });
});
