import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { loadBodyOf } from '../../../src/grpc/load-message.js';
import { loadBody } from '../../helpers/layers.js';

describe('loadBodyOf: RepositoryModelLoad parameters as the REST load body', () => {
  it('is the body REST is sent for the same layer, byte for byte, for a file of several base64 pieces', () => {
    const file = randomBytes(2 * 2 ** 20 + 1);
    const config =
      '{"backend": "convsvc", "parameters": {"op": {"string_value": "conv2d"}}, "note": "a \\"quoted\\" word"}';
    const body = loadBodyOf({
      config: { parameter_choice: 'string_param', string_param: config },
      'file:1/model.safetensors': { parameter_choice: 'bytes_param', bytes_param: file },
    });
    assert.equal(body.toString('latin1'), JSON.stringify(loadBody(config, file)));
  });

  it('keeps other parameters as JSON values (for the load schema to judge), and is empty without any', () => {
    const body = loadBodyOf({
      'odd "key"': { parameter_choice: 'int64_param', int64_param: 3 },
      flag: { parameter_choice: 'bool_param', bool_param: true },
    });
    assert.deepEqual(JSON.parse(body.toString('utf8')), { parameters: { 'odd "key"': 3, flag: true } });
    assert.equal(loadBodyOf({}).length, 0);
    assert.equal(loadBodyOf(undefined).length, 0);
  });

  it('refuses a file not in bytes_param, bytes that are no file, and a parameter without a value', () => {
    const refusal = (parameters: Parameters<typeof loadBodyOf>[0]) => {
      try {
        loadBodyOf(parameters);
      } catch (err) {
        return err as { status: number; message: string };
      }
      assert.fail('loadBodyOf took it');
    };
    const cases: [Parameters<typeof loadBodyOf>[0], RegExp][] = [
      [{ 'file:1/model.safetensors': { parameter_choice: 'string_param', string_param: 'AAAA' } }, /is a file/],
      [{ config: { parameter_choice: 'bytes_param', bytes_param: Buffer.from('{}') } }, /bytes_param is for files/],
      [{ config: {} }, /has no value/],
    ];
    for (const [parameters, message] of cases) {
      const err = refusal(parameters);
      assert.equal(err.status, 400);
      assert.match(err.message, message);
    }
  });
});
