import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import type { FastifyRequest } from 'fastify';
import { bodyBytesParser } from '../../src/body-bytes.js';
import { FREE_PIECES, MIN_PIECE_BYTES } from '../../src/body-pieces.js';
import type { ProblemError } from '../../src/problems.js';

interface Outcome {
  readonly err: (Error & { statusCode?: number; code?: string }) | null;
  readonly body?: Buffer;
  readonly parsed: boolean;
}

/** Runs the parser on `chunks` sent through a stream, with the given headers and body limit. */
function read(
  chunks: readonly (Buffer | Error)[],
  headers: Record<string, string>,
  bodyLimit = 1024,
): Promise<Outcome> {
  const request = { headers, routeOptions: { bodyLimit } } as unknown as FastifyRequest;
  const payload = new PassThrough();
  return new Promise((resolve) => {
    let body: Buffer | undefined;
    const parse = bodyBytesParser((_request, bytes, done) => {
      body = bytes;
      done(null, { length: bytes.length });
    });
    parse(request, payload, (err) => resolve({ err: err as Outcome['err'], body, parsed: body !== undefined }));
    for (const c of chunks) {
      if (c instanceof Error) payload.destroy(c);
      else payload.write(c);
    }
    if (!chunks.some((c) => c instanceof Error)) payload.end();
  });
}

const bytes = (n: number, seed: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 7 + seed) & 0xff));

describe('bodyBytesParser', () => {
  it('hands the parser the body as one copied buffer, whether it states its length or comes chunked', async () => {
    const whole = Buffer.concat([bytes(300, 1), bytes(1, 2), bytes(500, 3)]);
    for (const headers of [{ 'content-length': String(whole.length) }, {}] as Record<string, string>[]) {
      const parts = [whole.subarray(0, 300), whole.subarray(300, 301), whole.subarray(301)].map((p) => Buffer.from(p));
      const { err, body } = await read(parts, headers);
      assert.equal(err, null);
      assert.deepEqual(body, whole);
      for (const p of parts) p.fill(0);
      assert.deepEqual(body, whole, 'a copy, not a view of the chunks (socket buffers are reused)');
    }
  });

  it('refuses a stated length past the limit with 413 before reading, and a chunked body as it passes it', async () => {
    const stated = await read([bytes(10, 1)], { 'content-length': '1025' });
    assert.equal(stated.err?.statusCode, 413);
    assert.equal(stated.parsed, false);
    const chunked = await read([bytes(1000, 1), bytes(25, 2)], {});
    assert.equal(chunked.err?.statusCode, 413);
    assert.equal(chunked.parsed, false);
    assert.equal((await read([bytes(1024, 1)], {})).err, null, 'the limit itself is allowed');
  });

  it('refuses with 400 a body shorter than its Content-Length', async () => {
    const { err, parsed } = await read([bytes(10, 1)], { 'content-length': '11' });
    assert.equal(err?.statusCode, 400);
    assert.equal(err?.code, 'FST_ERR_CTP_INVALID_CONTENT_LENGTH');
    assert.equal(parsed, false);
  });

  it('refuses with 400 a body cut finer than MIN_PIECE_BYTES a piece past its first FREE_PIECES, before it is whole', async () => {
    const pieces = 2 * FREE_PIECES;
    for (const headers of [{ 'content-length': String(pieces) }, {}] as Record<string, string>[]) {
      const fine = await read(
        Array.from({ length: pieces }, (_, i) => bytes(1, i)),
        headers,
        1e6,
      );
      assert.equal((fine.err as ProblemError | null)?.status, 400);
      assert.match(fine.err?.message ?? '', /came in (\d+) pieces for \1 bytes/);
      assert.equal(fine.parsed, false);
    }
    const coarse = await read(
      Array.from({ length: pieces }, (_, i) => bytes(MIN_PIECE_BYTES, i)),
      {},
      pieces * MIN_PIECE_BYTES,
    );
    assert.equal(coarse.err, null);
    assert.equal(coarse.body?.length, pieces * MIN_PIECE_BYTES);
  });

  it('answers 400 when the stream breaks, keeping a status the error already has', async () => {
    assert.equal((await read([bytes(10, 1), new Error('aborted')], { 'content-length': '100' })).err?.statusCode, 400);
    const timedOut = Object.assign(new Error('slow'), { statusCode: 408 });
    assert.equal((await read([timedOut], {})).err?.statusCode, 408);
  });
});

describe('a body refused once read whole', () => {
  it('leaves its connection open: the next request on it is answered', async (t) => {
    const { build } = await import('../helpers/build.js');
    const { rawRequest } = await import('../helpers/raw-http.js');
    const app = await build(t, { memoryBudgetBytes: 16 * 2 ** 20 });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const post = (body: string) =>
      `POST /v1/im2col HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
    // Not JSON; then JSON numbers the budget could never hold once parsed (~6 x 3 MB > 16 MiB); then a health check.
    const tooMuch = `{"input":{"shape":[1,1,2],"data":[${'1,'.repeat(1_500_000)}1]},"kernelSize":1}`;
    const res = await rawRequest(
      app,
      `${post('{"input":') + post(tooMuch)}GET /health/live HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
      { untilClose: true },
    );
    const statuses = [...`${res.head}\r\n\r\n${res.body}`.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));
    assert.deepEqual(statuses, [400, 413, 200]);
  });
});

describe('a chunked body cut into bytes', () => {
  it('gets a 400 problem document that says so, then its connection closed, unread', async (t) => {
    const { build } = await import('../helpers/build.js');
    const { connect } = await import('node:net');
    const app = await build(t);
    await app.listen({ port: 0, host: '127.0.0.1' });
    const socket = connect((app.server.address() as AddressInfo).port, '127.0.0.1');
    t.after(() => socket.destroy());
    socket.on('error', () => {});
    let answer = '';
    socket.on('data', (d) => (answer += d.toString('latin1')));
    const closed = new Promise<void>((done) => socket.once('close', () => done()));
    socket.write(
      'POST /v1/im2col HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n',
    );
    // 4 MiB of body as 1-byte chunks, 24 MiB of the wire: ~5 s of the main thread, had it been read.
    const chunks = Buffer.from('1\r\n \r\n'.repeat(2 ** 16));
    for (let i = 0; i < 64; i++) socket.write(chunks);
    assert.equal(
      await Promise.race([closed.then(() => 'closed'), new Promise((r) => setTimeout(r, 10_000, 'open'))]),
      'closed',
    );
    assert.match(answer, /^HTTP\/1\.1 400 /);
    const problem = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)) as { type: string; detail: string };
    assert.match(problem.type, /invalid-request/);
    assert.match(problem.detail, /chunks must average 512 bytes or more/);
  });
});
