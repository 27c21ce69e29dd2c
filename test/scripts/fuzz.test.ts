import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { judge, judgeWithoutKey, MAX_PROBLEM_BYTES } from '../../scripts/fuzz/oracle.js';
import { fuzz } from '../../scripts/fuzz/run.js';
import { build } from '../helpers/build.js';

describe('the HTTP fuzzer (a short seeded run of `npm run fuzz`)', () => {
  it('finds only 4xx problem documents and correct 200s in 400 generated requests', async (t) => {
    const app = await build(t, { apiKeys: ['fuzz-key'] });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = app.server.address() as AddressInfo;
    const report = await fuzz({ baseUrl: `http://127.0.0.1:${port}`, runs: 400, seed: 1234, apiKey: 'fuzz-key' });
    assert.equal(report.failure, undefined, report.failure ?? '');
    assert.equal(report.runs, 400);
    assert.ok(
      (report.statuses['200'] ?? 0) > 20,
      `valid requests reached the kernels: ${JSON.stringify(report.statuses)}`,
    );
    assert.ok(Object.keys(report.kinds).length >= 10, `many kinds of hostile input: ${JSON.stringify(report.kinds)}`);
    assert.ok((report.kinds['spelled path without a key'] ?? 0) > 10, 'spelled paths were tried');
  });
});

describe("the fuzzer's oracle", () => {
  const problem = (status: number) => ({
    status,
    contentType: 'application/problem+json',
    body: JSON.stringify({ type: '/problems/x', title: 'X', status, detail: 'd', requestId: 'r' }),
  });
  const convT = JSON.stringify({
    input: { shape: [1, 1, 2, 2], data: [1, 2, 3, 4] },
    weight: { shape: [1, 1, 3, 3], data: [1, 1, 1, 1, 1, 1, 1, 1, 1] },
    stride: 2,
  });
  const answer = (shape: number[]) => ({
    status: 200,
    contentType: 'application/json',
    body: JSON.stringify({
      output: { shape, dtype: 'float32', data: new Array(shape.reduce((a, b) => a * b, 1)).fill(0) },
    }),
  });

  it('accepts a 4xx problem document and a 200 of the right shape', () => {
    assert.equal(judge('conv2d/forward', '{}', problem(422)), null);
    assert.equal(judge('conv-transpose2d/forward', convT, answer([1, 1, 5, 5])), null);
  });

  it('rejects a 5xx, a 200 of the wrong shape, a short tensor, a leaked stack trace and a bare 4xx', () => {
    assert.match(String(judge('conv2d/forward', '{}', problem(500))), /status 500/);
    assert.match(String(judge('conv2d/forward', '{}', problem(503))), /status 503/);
    assert.match(String(judge('conv-transpose2d/forward', convT, answer([1, 1, 4, 4]))), /expected \[1,1,5,5\]/);
    assert.match(
      String(
        judge('conv-transpose2d/forward', convT, {
          ...answer([1, 1, 5, 5]),
          body: '{"output":{"shape":[1,1,5,5],"data":[1]}}',
        }),
      ),
      /1 values/,
    );
    assert.match(
      String(judge('im2col', '{}', { ...problem(400), body: '{"detail":"Error\\n    at run (/app/x.js:1:2)"}' })),
      /stack trace/,
    );
    assert.match(
      String(judge('im2col', '{}', { status: 400, contentType: 'text/plain', body: '"bad"' })),
      /text\/plain/,
    );
  });

  it('accepts only a refusal of the target for a request sent without its key, and rejects an oversized problem document', () => {
    assert.equal(judgeWithoutKey(problem(401)), null);
    assert.equal(judgeWithoutKey(problem(404)), null);
    assert.equal(
      judgeWithoutKey({
        ...problem(400),
        body: '{"detail":"the request-target must be a path starting with \\"/\\" (origin form)"}',
      }),
      null,
    );
    assert.match(String(judgeWithoutKey(problem(400))), /400 without an API key/);
    assert.match(String(judgeWithoutKey(answer([1]))), /200 without an API key/);
    const big = {
      ...problem(400),
      body: JSON.stringify({
        type: '/problems/x',
        title: 'X',
        status: 400,
        detail: 'x'.repeat(MAX_PROBLEM_BYTES),
        requestId: 'r',
      }),
    };
    assert.match(String(judge('im2col', '{}', big)), /a problem document of \d+ bytes/);
  });
});
