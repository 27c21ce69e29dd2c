import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FREE_PIECES, MIN_PIECE_BYTES, piecesRefusal } from '../../src/body-pieces.js';

describe('piecesRefusal', () => {
  it('lets a body come in its first FREE_PIECES pieces however small', () => {
    assert.equal(piecesRefusal(FREE_PIECES, FREE_PIECES), null);
    assert.equal(piecesRefusal(1, 0), null);
  });

  it('past them, takes pieces of MIN_PIECE_BYTES on average, and refuses finer ones in words that say so', () => {
    const bytes = 10_000 * MIN_PIECE_BYTES;
    assert.equal(piecesRefusal(FREE_PIECES + 10_000, bytes), null);
    assert.equal(
      piecesRefusal(FREE_PIECES + 10_001, bytes),
      `the body came in ${FREE_PIECES + 10_001} pieces for ${bytes} bytes: past the first ${FREE_PIECES}, its chunks must average ${MIN_PIECE_BYTES} bytes or more`,
    );
    assert.notEqual(piecesRefusal(FREE_PIECES + 100, FREE_PIECES + 100), null, 'one byte a piece, past the free ones');
  });
});
