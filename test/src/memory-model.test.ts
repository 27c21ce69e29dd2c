import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { denseJsonExtra, HELD_PER_BODY_BYTE } from '../../src/memory-model.js';

const MiB = 2 ** 20;

/** What a text of `bytes` with `values` values is charged to parse, per byte: the per-byte charge and the extra. */
const chargedPerByte = (bytes: number, values: number) =>
  (bytes * HELD_PER_BODY_BYTE.jsonNumbers + denseJsonExtra(bytes, values)) / bytes;

describe('denseJsonExtra', () => {
  it('adds nothing for numbers of ordinary length, which the per-byte charge covers', () => {
    // 20-character numbers (held 4.1 x), 5-digit decimals (5.5 x).
    assert.equal(denseJsonExtra(60 * MiB, (60 * MiB) / 21), 0);
    assert.equal(denseJsonExtra(60 * MiB, (60 * MiB) / 6), 0);
  });

  it('covers what the shortest values were measured to hold (RELIABILITY.md, "Memory model")', () => {
    // `0,`: 11.2 x the text; `0.5,`: 7.2 x; `true,`: 5.6 x.
    assert.ok(chargedPerByte(60 * MiB, 30 * MiB) >= 11.2);
    assert.ok(chargedPerByte(60 * MiB, 15 * MiB) >= 7.2);
    assert.ok(chargedPerByte(60 * MiB, 12 * MiB) >= 5.6);
    // And by no more than a tenth for `0,`.
    assert.ok(chargedPerByte(60 * MiB, 30 * MiB) <= 11.2 * 1.1);
  });
});
