import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import Fastify, { type FastifyRequest } from 'fastify';
import { JsonRefusal, parseCheckedJson } from '../../../src/tensor/checked-json.js';

const fastify = Fastify();
after(() => fastify.close());
const fastifyParser = fastify.getDefaultJsonParser('error', 'error');

/** What Fastify's default parser makes of `text`: its value, or that it refuses it. */
function fastifyParse(text: string): { value?: unknown; refused?: true } {
  let out: { value?: unknown; refused?: true } = {};
  void fastifyParser(undefined as unknown as FastifyRequest, text, (err, value) => {
    out = err ? { refused: true } : { value };
  });
  return out;
}

function ours(text: string): { value?: unknown; refused?: true; reason?: string } {
  try {
    return { value: parseCheckedJson(text) };
  } catch (err) {
    assert.ok(err instanceof JsonRefusal);
    return { refused: true, reason: err.reason };
  }
}

describe('parseCheckedJson', () => {
  it('says why it refuses: an empty body, a syntax error, a forbidden key', () => {
    assert.equal(ours('').reason, 'empty');
    assert.equal(ours('{"a": ').reason, 'syntax');
    assert.equal(ours(' ').reason, 'syntax');
    assert.equal(ours('{"a": {"__proto__": 1}}').reason, 'forbidden-key');
    assert.equal(ours('{"\\u005f_proto__": 1}').reason, 'forbidden-key');
    assert.equal(ours('[{"constructor": {"prototype": null}}]').reason, 'forbidden-key');
    assert.deepEqual(ours('\uFEFF{"constructor": 1, "prototype": {}}').value, { constructor: 1, prototype: {} });
  });

  it("accepts and refuses what Fastify's default parser does, with the same values (fast-check)", () => {
    const key = fc.constantFrom(
      '__proto__',
      'constructor',
      'prototype',
      'a',
      '\\u005f_proto__',
      'constructo\\u0072',
      'b64',
    );
    const tree = fc.letrec((tie) => ({
      node: fc.oneof(
        { depthSize: 'small' },
        fc.constantFrom('1', '-0', '"x"', 'null', 'true', '[]', '{}'),
        fc.array(tie('node'), { maxLength: 3 }).map((items) => `[${items.join(',')}]`),
        fc
          .array(fc.tuple(key, tie('node')), { maxLength: 3 })
          .map((entries) => `{${entries.map(([k, v]) => `"${k}":${v}`).join(',')}}`),
      ),
    })).node;
    const text = fc.oneof(
      { weight: 8, arbitrary: tree },
      { weight: 1, arbitrary: tree.map((t) => `\uFEFF${t}`) },
      { weight: 1, arbitrary: tree.map((t) => t.slice(1)) },
    );
    fc.assert(
      fc.property(text, (t) => {
        const theirs = fastifyParse(t);
        const mine = ours(t);
        assert.equal(mine.refused === true, theirs.refused === true, t);
        if (!mine.refused) assert.deepEqual(mine.value, theirs.value);
      }),
      { numRuns: 3000 },
    );
  });
});
