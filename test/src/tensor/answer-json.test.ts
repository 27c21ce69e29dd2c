import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ResultTensor } from '../../../src/schemas/tensor.js';
import { answerJson } from '../../../src/tensor/answer-json.js';

describe('answerJson', () => {
  it('writes the same JSON as JSON.stringify, for both encodings and several results', () => {
    const answers: Record<string, ResultTensor>[] = [
      { output: { shape: [1, 2], dtype: 'float32', b64: 'AACAPwAAAEA=' } },
      { gradInput: { shape: [2], dtype: 'float64', data: [1.5, 'NaN'] }, gradWeight: { shape: [1], dtype: 'float64', b64: 'AAAAAAAA8D8=' } },
      { gradWeight: { shape: [1], dtype: 'float32', data: [-0.25] }, gradBias: { shape: [1], dtype: 'float32', data: ['-Infinity'] } },
    ];
    for (const answer of answers) {
      const bytes = answerJson(answer);
      assert.deepEqual(JSON.parse(bytes.toString('utf8')), answer);
      assert.equal(bytes.toString('utf8'), JSON.stringify(answer));
    }
  });
});
