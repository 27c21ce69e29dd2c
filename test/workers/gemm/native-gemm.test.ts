/**
 * The host side of the native GEMM (workers/gemm/native-gemm.ts): it loads the addon and says why
 * when it cannot, and it cuts a GEMM past MACS_PER_CALL into bands of C's rows (so a cancelled
 * task stops between two calls into C) without changing the result or writing before the whole
 * call is known to fit.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { f32GemmNative, loadNative, MACS_PER_CALL, type NativeBlas } from '../../../workers/gemm/native-gemm.js';
import { random } from '../helpers/tensors.js';

const { blas, why } = loadNative();

describe('the native GEMM host', () => {
  it('either loads the addon or says why not', () => {
    assert.ok((blas === null) !== (why === null), 'exactly one of the addon and a reason');
    if (why !== null) assert.match(why, /convsvc_blas\.node/);
  });

  describe('a GEMM past MACS_PER_CALL', { skip: blas === null ? `not offered here: ${why}` : false }, () => {
    const b = blas as NativeBlas;
    // 1100 x 700 x 700 is just past 2^29 multiply-adds: two bands of C's rows.
    const m = 1100,
      n = 700,
      k = 700;
    assert.ok(m * n * k > MACS_PER_CALL && m * n * k < 2 * MACS_PER_CALL);

    for (const transA of [false, true]) {
      it(`runs in bands with the result of one call (transA=${transA})`, () => {
        const a = random('float32', m * k + 3, 1);
        const bm = random('float32', k * n, 2);
        const banded = random('float32', m * (n + 1) + 2, 3);
        const whole = banded.slice();
        const lda = transA ? m : k;
        f32GemmNative(transA, false, m, n, k, 0.5, a, 3, lda, bm, 0, n, 1, banded, 2, n + 1);
        b.sgemm(transA, false, m, n, k, 0.5, a, 3, lda, bm, 0, n, 1, whole, 2, n + 1);
        assert.deepEqual(banded, whole);
      });
    }

    it('refuses a call whose C is one element short before any band is written', () => {
      const a = random('float32', m * k, 1);
      const bm = random('float32', k * n, 2);
      const c = random('float32', m * n - 1, 3);
      const before = c.slice();
      assert.throws(() => f32GemmNative(false, false, m, n, k, 1, a, 0, k, bm, 0, n, 0, c, 0, n), RangeError);
      assert.deepEqual(c, before);
    });
  });
});
