import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { INFERENCE_SERVICE, oversizeReason, serviceDefinition } from '../../../src/grpc/proto.js';

describe('serviceDefinition with a message limit', () => {
  it('hands a message over its method’s limit to the handler undecoded, marked OVERSIZE', () => {
    const definition = serviceDefinition(INFERENCE_SERVICE, (method) => (method.endsWith('/ModelInfer') ? 16 : 1024));
    const message = definition.ModelInfer.requestSerialize({ model_name: 'conv2d_grad_parameters' });
    assert.ok(message.length > 16);
    assert.match(
      oversizeReason(definition.ModelInfer.requestDeserialize(message)) ?? '',
      /over the 16 ModelInfer takes/,
    );
    const ready = definition.ModelReady.requestSerialize({ name: 'conv2d_grad_parameters' });
    const decoded = definition.ModelReady.requestDeserialize(ready) as { name: string };
    assert.equal(oversizeReason(decoded), undefined);
    assert.equal(decoded.name, 'conv2d_grad_parameters');
  });
});
