import assert from 'node:assert/strict';
import { type AddressInfo, connect } from 'node:net';
import { describe, it } from 'node:test';
import { build } from '../helpers/build.js';
import { until } from '../helpers/faults.js';
import { rawRequest } from '../helpers/raw-http.js';

describe('errors of the HTTP parser', () => {
  it('answers headers too large with a 431 problem document and closes', async (t) => {
    const app = await build(t);
    await app.listen({ port: 0, host: '127.0.0.1' });
    const res = await rawRequest(app, `GET /health/live HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    assert.equal(res.status, 431);
    assert.match(res.head, /content-type: application\/problem\+json/i);
    assert.match(res.head, /connection: close/i);
    const doc = JSON.parse(res.body);
    assert.equal(doc.type, '/problems/headers-too-large');
    assert.equal(doc.status, 431);
  });

  it('answers malformed HTTP with a 400 problem document', async (t) => {
    const app = await build(t);
    await app.listen({ port: 0, host: '127.0.0.1' });
    for (const text of [
      'GARBAGE\r\n\r\n',
      'GET /health/live HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n',
    ]) {
      const res = await rawRequest(app, text);
      assert.equal(res.status, 400, JSON.stringify(text));
      const doc = JSON.parse(res.body);
      assert.equal(doc.type, '/problems/invalid-request');
      assert.match(doc.detail, /not valid HTTP\/1\.1 \(HPE_\w+\)/);
      assert.ok(doc.requestId);
    }
  });

  it('answers a malformed request on a connection kept alive after an answered one', async (t) => {
    const app = await build(t);
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as AddressInfo;
    const socket = connect(port, '127.0.0.1');
    t.after(() => socket.destroy());
    let received = '';
    socket.on('data', (c: Buffer) => (received += c.toString()));
    const closed = new Promise((r) => socket.once('close', r));
    socket.write('GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n');
    await until(() => received.includes('"status":"ok"'));
    assert.match(received, /^HTTP\/1\.1 200 /, 'the first answer');
    socket.write('POST %2fv1/im2col HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}');
    await closed;
    const second = received.slice(received.lastIndexOf('HTTP/1.1 4'));
    assert.match(second, /^HTTP\/1\.1 400 /, 'and the second, though the connection had written before');
    assert.match(second, /HPE_INVALID_URL/);
  });

  it('answers headers that do not arrive within HEADERS_TIMEOUT_MS with a 408 problem document', async (t) => {
    const app = await build(t, { headersTimeoutMs: 1000 });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const started = performance.now();
    const res = await rawRequest(app, 'GET /health/live HTTP/1.1\r\nHost: x\r\n');
    assert.equal(res.status, 408, res.head);
    assert.equal(JSON.parse(res.body).type, '/problems/request-timeout');
    assert.ok(performance.now() - started < 4000);
  });
});
