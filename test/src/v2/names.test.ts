import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { v2Path, v2Text } from '../../../src/v2/names.js';

describe('v2Path', () => {
  it('names a half of a pair parameter by its split parameter', () => {
    assert.equal(v2Path('stride[0]'), 'parameters.stride_h');
    assert.equal(v2Path('outputPadding[1]'), 'parameters.output_padding_w');
    assert.equal(v2Path('kernelSize'), 'parameters.kernel_h/kernel_w');
    assert.equal(v2Path('outputSize[0]'), 'parameters.output_h');
  });
  it('names scalars as parameters and tensors in snake_case', () => {
    assert.equal(v2Path('computeBias'), 'parameters.compute_bias');
    assert.equal(v2Path('groups'), 'parameters.groups');
    assert.equal(v2Path('gradOutput.shape[1]'), 'grad_output.shape[1]');
    assert.equal(v2Path('inputShape[2]'), 'parameters.input_h/input_w');
  });
});

describe('v2Text', () => {
  it('rewrites the /v1 names inside a message and leaves other words alone', () => {
    assert.equal(
      v2Text(
        'outputPadding[0] (2) must be smaller than stride[0] or dilation[0]; gradOutput.shape[1] must equal weight.shape[1]',
      ),
      'output_padding_h (2) must be smaller than stride_h or dilation_h; grad_output.shape[1] must equal weight.shape[1]',
    );
    assert.equal(
      v2Text('kernelSize is required when gradWeight is not given'),
      'kernel_h/kernel_w is required when grad_weight is not given',
    );
    assert.equal(v2Text('zero padding of the input'), 'zero padding of the input');
  });
});
