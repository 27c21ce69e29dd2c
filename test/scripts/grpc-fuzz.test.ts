import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { status } from '@grpc/grpc-js';
import { fuzzGrpc, type GrpcFuzzCall, judgeCall } from '../../scripts/fuzz/grpc.js';
import { serve } from '../src/grpc/client.js';

describe('the gRPC fuzzer (a short seeded run)', () => {
  it('finds only answers with whole tensors and the protocol’s refusals in 300 generated calls', async (t) => {
    const { address } = await serve(t, { apiKeys: ['fuzz-key'] });
    const report = await fuzzGrpc({ address, runs: 300, seed: 4321, apiKey: 'fuzz-key' });
    assert.equal(report.failure, undefined, report.failure ?? '');
    assert.equal(report.runs, 300);
    assert.ok((report.codes.OK ?? 0) > 20, `valid calls reached the kernels: ${JSON.stringify(report.codes)}`);
    for (const kind of ['valid', 'well-formed, hostile', 'valid bytes broken', 'random bytes'])
      assert.ok((report.kinds[kind] ?? 0) > 5, `${kind}: ${JSON.stringify(report.kinds)}`);
    assert.ok((report.codes.UNAUTHENTICATED ?? 0) > 5, 'calls without the key were tried');
    assert.ok((report.codes.INVALID_ARGUMENT ?? 0) > 20, 'malformed calls were tried');
  });
});

describe("the gRPC fuzzer's oracle", () => {
  const call = (withoutKey = false): GrpcFuzzCall => ({ bytes: Buffer.alloc(0), metadata: [], withoutKey, kind: 'k' });
  const error = (code: status, details = 'why') =>
    Object.assign(new Error(details), { code, details, metadata: null as never });

  it('accepts the protocol’s refusals, and UNAUTHENTICATED alone without the key', () => {
    assert.equal(judgeCall(call(), error(status.INVALID_ARGUMENT), undefined), null);
    assert.equal(judgeCall(call(true), error(status.UNAUTHENTICATED), undefined), null);
  });

  it('rejects INTERNAL, UNKNOWN, a stack trace, and anything but UNAUTHENTICATED without the key', () => {
    assert.match(String(judgeCall(call(), error(status.INTERNAL), undefined)), /INTERNAL/);
    assert.match(String(judgeCall(call(), error(status.UNKNOWN), undefined)), /UNKNOWN/);
    assert.match(
      String(judgeCall(call(), error(status.INVALID_ARGUMENT, 'x\n    at f (a.js:1:1)'), undefined)),
      /stack trace/,
    );
    assert.match(String(judgeCall(call(true), error(status.INVALID_ARGUMENT), undefined)), /without the API key/);
  });
});
