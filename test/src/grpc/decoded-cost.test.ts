import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodedCost, OBJECT_BYTES, SLOT_BYTES } from '../../../src/grpc/decoded-cost.js';
import { decodedLimit, protoRoot } from '../../../src/grpc/proto.js';

const Request = protoRoot().lookupType('inference.ModelInferRequest');
const encode = (message: object): Uint8Array => Request.encode(Request.fromObject(message)).finish();
/** `n` copies of the 2-byte field `field` with no content: an empty message, string or bytes value. */
const empties = (field: number, n: number): Uint8Array => Buffer.alloc(2 * n).fill(Buffer.of((field << 3) | 2, 0));

describe('decodedCost', () => {
  it("counts a request's raw tensors as views, far under their bytes", () => {
    const bytes = encode({
      model_name: 'conv2d',
      inputs: [
        { name: 'input', datatype: 'FP32', shape: [1, 16, 64, 64] },
        { name: 'weight', datatype: 'FP32', shape: [16, 16, 3, 3] },
      ],
      raw_input_contents: [Buffer.alloc(4 * 16 * 64 * 64), Buffer.alloc(4 * 16 * 16 * 9)],
    });
    const cost = decodedCost(Request, bytes);
    assert.ok(cost > 0 && cost < 2048, `${cost} bytes for a ${bytes.length}-byte request`);
  });

  it('counts packed numbers as the doubles of an array, within the limit', () => {
    const n = 2 ** 18;
    const bytes = encode({
      model_name: 'conv2d',
      inputs: [
        {
          name: 'input',
          datatype: 'FP32',
          shape: [1, 1, 512, 512],
          contents: { fp32_contents: new Array(n).fill(0.5) },
        },
      ],
    });
    const cost = decodedCost(Request, bytes);
    assert.ok(cost >= n * SLOT_BYTES, `${cost} bytes for ${n} floats`);
    assert.ok(cost <= decodedLimit(bytes.length));
  });

  it('counts an object for every empty message, string or bytes value, at any depth, past the limit', () => {
    const n = 100_000;
    for (const [what, bytes] of [
      ['inputs', empties(5, n)],
      ['raw_input_contents', empties(7, n)],
      ['parameters', empties(4, n)],
      // One input whose own parameters map has n empty entries.
      ["an input's parameters", Buffer.concat([Buffer.of(0x2a, ...varint(2 * n)), empties(4, n)])],
    ] as const) {
      const cost = decodedCost(Request, bytes);
      assert.ok(cost >= n * OBJECT_BYTES, `${what}: ${cost}`);
      assert.ok(cost > decodedLimit(bytes.length), what);
    }
  });

  it('stops counting just past a limit, and leaves what it cannot read to the decoder', () => {
    const bytes = empties(5, 100_000);
    const cost = decodedCost(Request, bytes, 10_000);
    assert.ok(cost > 10_000 && cost <= 10_000 + 2 * OBJECT_BYTES, `${cost}`);
    // Unknown fields cost nothing; a truncated varint or length ends the count.
    assert.equal(decodedCost(Request, empties(15, 1000)), OBJECT_BYTES);
    assert.equal(decodedCost(Request, Buffer.of(0x2a, 0x05, 0x1a)), OBJECT_BYTES);
    assert.equal(decodedCost(Request, Buffer.of(0xff, 0xff)), OBJECT_BYTES);
  });
});

function varint(v: number): number[] {
  const out: number[] = [];
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
}
