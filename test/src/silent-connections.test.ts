import assert from 'node:assert/strict';
import { connect as connectHttp2 } from 'node:http2';
import { type AddressInfo, connect } from 'node:net';
import { describe, it, type TestContext } from 'node:test';
import { build } from '../helpers/build.js';

/**
 * A connection that sends nothing is closed after HEADERS_TIMEOUT_MS, on the HTTP port and on the
 * gRPC port alike; one that has begun a request is timed as a request is.
 */

/** A socket to `port` that sends `bytes` (maybe none): when it closed, and what it was told. */
function opened(t: TestContext, port: number, bytes = '') {
  const socket = connect(port, '127.0.0.1');
  t.after(() => socket.destroy());
  socket.on('error', () => {});
  if (bytes) socket.write(bytes);
  let received = '';
  socket.on('data', (c: Buffer) => (received += c.toString('latin1')));
  const started = performance.now();
  const closed = new Promise<{ afterMs: number; received: string } | null>((resolve) => {
    socket.on('close', () => resolve({ afterMs: performance.now() - started, received }));
    setTimeout(() => resolve(null), 10_000).unref();
  });
  return closed;
}

describe('a connection that sends nothing', () => {
  it('is closed after HEADERS_TIMEOUT_MS on the HTTP port, while one that began a request gets its 408', async (t) => {
    const app = await build(t, { headersTimeoutMs: 1000 });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as AddressInfo;
    const [silent, begun] = await Promise.all([opened(t, port), opened(t, port, 'POST /v1/im2col HTTP/1.1\r\n')]);
    assert.ok(silent, 'the silent socket was closed');
    assert.ok(silent.afterMs >= 900, `not before the timeout: ${Math.round(silent.afterMs)} ms`);
    assert.equal(silent.received, '', 'with nothing to answer');
    assert.ok(begun, 'the begun request was ended');
    assert.match(begun.received, /^HTTP\/1\.1 408/);
  });

  it('is closed after HEADERS_TIMEOUT_MS on the gRPC port; a connection left idle after its calls is sent GOAWAY', async (t) => {
    const app = await build(null, { headersTimeoutMs: 1000 });
    let session: ReturnType<typeof connectHttp2> | undefined;
    // The session first: the app's close waits for it.
    t.after(async () => {
      session?.destroy();
      await app.close();
    });
    // The idle limit follows the HTTP port's keep-alive (72 s by default), shortened here; a
    // silent socket is closed before it, by the headers' timeout.
    app.server.keepAliveTimeout = 2000;
    const port = await app.grpc.listen(0, '127.0.0.1');
    const silent = await opened(t, port);
    assert.ok(silent, 'the silent socket was closed');
    assert.ok(
      silent.afterMs >= 900 && silent.afterMs < 1800,
      `after the headers' timeout, before the idle limit: ${Math.round(silent.afterMs)} ms`,
    );

    session = connectHttp2(`http://127.0.0.1:${port}`);
    const goaway = new Promise<boolean>((resolve) => {
      session?.on('goaway', () => resolve(true));
      session?.on('close', () => resolve(true));
      setTimeout(() => resolve(false), 10_000).unref();
    });
    const call = session.request({
      ':method': 'POST',
      ':path': '/inference.GRPCInferenceService/ServerLive',
      'content-type': 'application/grpc',
      te: 'trailers',
    });
    call.on('error', () => {});
    call.resume();
    call.end(Buffer.alloc(5));
    const status = await new Promise<string>((resolve) =>
      call.on('trailers', (h) => resolve(String(h['grpc-status']))),
    );
    assert.equal(status, '0', 'the call was answered');
    assert.equal(await goaway, true, 'the idle connection was let go');
  });
});
