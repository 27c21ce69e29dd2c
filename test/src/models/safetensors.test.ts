import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { toSafetensors } from '../../../client/index.js';
import { MAX_HEADER_BYTES, parseSafetensors, SafetensorsError } from '../../../src/models/safetensors.js';

/** A file with the given header (any JSON, or raw text) and `data` bytes after it. */
function file(header: unknown, dataBytes: number, headerLength?: bigint): Uint8Array {
  const text = typeof header === 'string' ? header : JSON.stringify(header);
  const head = new TextEncoder().encode(text);
  const out = new Uint8Array(8 + head.length + dataBytes);
  new DataView(out.buffer).setBigUint64(0, headerLength ?? BigInt(head.length), true);
  out.set(head, 8);
  return out;
}

const refused = (f: Uint8Array, message: RegExp) =>
  assert.throws(
    () => parseSafetensors(f),
    (err: unknown) => err instanceof SafetensorsError && message.test(err.message),
  );

describe('parseSafetensors', () => {
  it("reads back what the client's toSafetensors wrote: names, dtypes, shapes, bytes", () => {
    const weight = Float32Array.from({ length: 24 }, (_, i) => i / 3);
    const bias = Float64Array.from([1.5, -2, Math.PI]);
    const tensors = parseSafetensors(
      toSafetensors({ weight: { shape: [2, 3, 2, 2], values: weight }, bias: { shape: [3], values: bias } }),
    );
    assert.deepEqual([...tensors.keys()].sort(), ['bias', 'weight']);
    const w = tensors.get('weight')!;
    assert.equal(w.dtype, 'F32');
    assert.deepEqual(w.shape, [2, 3, 2, 2]);
    assert.deepEqual(new Float32Array(w.bytes.slice().buffer), weight);
    const b = tensors.get('bias')!;
    assert.equal(b.dtype, 'F64');
    assert.deepEqual(new Float64Array(b.bytes.slice().buffer), bias);
  });

  it("takes the format's __metadata__ and a header padded with spaces", () => {
    const t = parseSafetensors(
      file({ __metadata__: { format: 'pt' }, weight: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, 4),
    );
    assert.deepEqual([...t.keys()], ['weight']);
  });

  it('refuses a file shorter than its header length field, or whose header runs past its end', () => {
    refused(new Uint8Array(5), /fewer than its 8-byte header length/);
    refused(file('{}', 0, 1000n), /runs past the end/);
  });

  it('refuses a header length over the bound without reading on, even one of 2^64 - 1', () => {
    refused(file('{}', 0, BigInt(MAX_HEADER_BYTES + 1)), /over/);
    refused(file('{}', 0, 2n ** 64n - 1n), /over/);
  });

  it('refuses a header that is not UTF-8 JSON of an object', () => {
    refused(file('{"a":', 0), /not UTF-8 JSON/);
    refused(file('[1, 2]', 0), /not a JSON object/);
    refused(file('null', 0), /not a JSON object/);
    const bad = file('{"x":1}', 0);
    bad[10] = 0xff;
    refused(bad, /not UTF-8 JSON/);
  });

  it('refuses dtypes other than F32 and F64, bad shapes, unknown fields and non-string metadata', () => {
    refused(file({ w: { dtype: 'F16', shape: [2], data_offsets: [0, 4] } }, 4), /w\.dtype/);
    refused(file({ w: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, 4), /w\.shape/);
    refused(file({ w: { dtype: 'F32', shape: [1.5], data_offsets: [0, 4] } }, 4), /w\.shape/);
    refused(file({ w: { dtype: 'F32', shape: [1], data_offsets: [0, 4], extra: 1 } }, 4), /not valid/);
    refused(file({ w: { dtype: 'F32', shape: [1], data_offsets: [0] } }, 4), /data_offsets/);
    refused(file({ __metadata__: { a: 1 } }, 0), /__metadata__/);
    refused(file({ w: 'F32' }, 0), /not valid/);
  });

  it('refuses byte ranges that disagree with the shape, end before they begin, or leave the data section', () => {
    refused(
      file({ w: { dtype: 'F32', shape: [2], data_offsets: [0, 4] } }, 8),
      /span 4 bytes but shape \[2\] of F32 needs 8/,
    );
    refused(file({ w: { dtype: 'F32', shape: [0], data_offsets: [4, 0] } }, 4), /end before they begin/);
    refused(file({ w: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }, 8), /past the data section/);
    // A shape whose byte count is astronomically large cannot match a range of a real file.
    refused(
      file({ w: { dtype: 'F64', shape: [2 ** 31 - 1, 2 ** 31 - 1, 2 ** 31 - 1], data_offsets: [0, 8] } }, 8),
      /needs/,
    );
  });

  it('refuses overlapping tensors, gaps and bytes after the last tensor: the ranges tile the data exactly', () => {
    const t = (a: number, b: number) => ({ dtype: 'F32', shape: [(b - a) / 4], data_offsets: [a, b] });
    refused(file({ a: t(0, 8), b: t(4, 12) }, 12), /overlap/);
    refused(file({ a: t(0, 4), b: t(8, 12) }, 12), /belong to no tensor/);
    refused(file({ a: t(0, 4) }, 8), /cover 4/);
    assert.equal(parseSafetensors(file({ b: t(4, 8), a: t(0, 4) }, 8)).size, 2);
  });

  it('refuses a header listing more tensors than a layer could ever have', () => {
    const header = Object.fromEntries(
      Array.from({ length: 40 }, (_, i) => [`t${i}`, { dtype: 'F32', shape: [1], data_offsets: [4 * i, 4 * i + 4] }]),
    );
    refused(file(header, 160), /at most/);
  });

  it('answers any bytes, and any mutation of a valid file, with the tensors or a SafetensorsError: never another error', () => {
    const valid = toSafetensors({
      weight: { shape: [2, 2], values: Float32Array.from([1, 2, 3, 4]) },
      bias: { shape: [2], values: Float64Array.from([5, 6]) },
    });
    const answers = (bytes: Uint8Array) => {
      try {
        for (const t of parseSafetensors(bytes).values()) assert.ok(t.bytes.byteLength >= 0);
      } catch (err) {
        if (!(err instanceof SafetensorsError)) throw err;
      }
    };
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => answers(bytes)),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }),
        (edits) => {
          const bytes = valid.slice();
          for (const [at, value] of edits) bytes[at] = value;
          answers(bytes);
        },
      ),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(fc.jsonValue(), fc.nat(64), (header, data) => answers(file(header, data))),
      { numRuns: 1000 },
    );
  });
});
