import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bounded, MAX_FIELD_CHARS, MAX_LISTED_ERRORS, MAX_PROBLEM_BYTES, problemDocument } from '../../src/problems.js';

describe('problemDocument', () => {
  const size = (doc: object) => Buffer.byteLength(JSON.stringify(doc));

  it(`lists at most ${MAX_LISTED_ERRORS} field errors, each cut to ${MAX_FIELD_CHARS} characters`, () => {
    const errors = Array.from({ length: 1000 }, (_, i) => ({
      path: `f${i}${'x'.repeat(10_000)}`,
      message: 'y'.repeat(10_000),
    }));
    const doc = problemDocument('invalid-request', 'z'.repeat(100_000), 'id', errors);
    assert.equal(doc.errors!.length, MAX_LISTED_ERRORS);
    for (const e of doc.errors!) assert.ok(e.path.length <= MAX_FIELD_CHARS && e.message.length <= MAX_FIELD_CHARS);
    assert.ok(doc.errors![0].path.startsWith('f0x'));
    assert.ok(size(doc) <= MAX_PROBLEM_BYTES);
  });

  it(`stays under ${MAX_PROBLEM_BYTES} bytes when every character is one JSON escapes`, () => {
    const control = '\u0001'.repeat(100_000);
    const doc = problemDocument(
      'invalid-request',
      control,
      'id',
      Array.from({ length: 50 }, () => ({ path: control, message: control })),
    );
    assert.ok(size(doc) <= MAX_PROBLEM_BYTES, `${size(doc)} bytes`);
    assert.ok(doc.detail.length > 0);
  });

  it('leaves a short document as it is', () => {
    assert.deepEqual(problemDocument('invalid-request', 'bad', 'id', [{ path: 'a', message: 'is required' }]), {
      type: '/problems/invalid-request',
      title: 'Invalid request',
      status: 400,
      detail: 'bad',
      requestId: 'id',
      errors: [{ path: 'a', message: 'is required' }],
    });
  });
});

describe('bounded', () => {
  it('cuts a text to its length, marked, without splitting a surrogate pair', () => {
    assert.equal(bounded('abc', 3), 'abc');
    assert.equal(bounded('abcdef', 4), 'abc…');
    const cut = bounded(`ab${'😀'.repeat(5)}`, 4);
    assert.ok(cut.length <= 4);
    assert.doesNotMatch(cut, /[\uD800-\uDBFF](?![\uDC00-\uDFFF])/);
  });
});
