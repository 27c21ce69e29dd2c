import assert from 'node:assert/strict';
import { Agent, request as httpRequest, type IncomingMessage } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { describe, it, type TestContext } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { REFUSAL_LINGER_MS } from '../../../src/client-errors.js';
import { ByteShaper, refusedBodiesPlugin } from '../../../src/plugins/refused-bodies.js';
import { Uploads } from '../../../src/uploads.js';
import { until } from '../../helpers/faults.js';
import { trickle } from '../../helpers/raw-http.js';

describe('ByteShaper', () => {
  it('lets a quiet reader go on at once, within its burst', () => {
    const shaper = new ByteShaper(1000);
    assert.equal(shaper.take(50, 0), 0);
  });

  it('makes readers wait for the bytes they took beyond the rate, all readers together', () => {
    const shaper = new ByteShaper(1000);
    assert.equal(shaper.take(1000, 0), 950);
    // A second reader at the same moment waits behind the first one's bytes.
    assert.equal(shaper.take(500, 0), 1450);
  });

  it('earns the time back as real time passes', () => {
    const shaper = new ByteShaper(1000);
    shaper.take(1000, 0);
    assert.equal(shaper.take(40, 2000), 0);
  });
});

interface Seen {
  refused?: IncomingMessage;
}

/** An app with the plugin and two routes: one refuses before reading its body (as admission does), one reads it. */
async function appWith(
  t: TestContext,
  bytesPerSecond: number,
  maxBodyBytes: number,
  uploads = new Uploads({ minBytesPerSecond: 0, windowMs: 5000 }),
): Promise<{ app: FastifyInstance; port: number; seen: Seen }> {
  const app = Fastify({ bodyLimit: maxBodyBytes, forceCloseConnections: 'idle' });
  const seen: Seen = {};
  await app.register(refusedBodiesPlugin, { bytesPerSecond, maxBodyBytes, uploads, deadlineMs: 60_000 });
  app.addContentTypeParser('application/octet-stream', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  app.post(
    '/refused',
    {
      onRequest: async (request, reply) => {
        seen.refused = request.raw;
        return reply.code(503).send({ refused: true });
      },
    },
    async () => ({}),
  );
  app.post('/read', async (request) => ({ bytes: (request.body as Buffer).length }));
  await app.listen({ port: 0, host: '127.0.0.1' });
  t.after(() => app.close());
  return { app, port: (app.server.address() as AddressInfo).port, seen };
}

interface Posted {
  readonly status: number;
  readonly body: string;
  readonly reusedSocket: boolean;
  /** Settles when the request's upload ends: true if all of it was sent, false if the connection closed first. */
  readonly uploaded: Promise<boolean>;
}

function post(port: number, path: string, bytes: number, agent: Agent): Promise<Posted> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({
      host: '127.0.0.1',
      port,
      path,
      method: 'POST',
      agent,
      headers: { 'content-type': 'application/octet-stream', 'content-length': bytes },
    });
    let finished = false;
    req.once('finish', () => (finished = true));
    const uploaded = new Promise<boolean>((done) => req.once('close', () => done(finished)));
    uploaded.catch(() => {});
    req.on('error', () => {});
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, reusedSocket: req.reusedSocket, uploaded }));
    });
    req.once('error', reject);
    req.end(Buffer.alloc(bytes, 0x41));
  });
}

const MiB = 2 ** 20;

describe('bodies of refused requests', () => {
  it('are read and thrown away after their answer, so the connection serves the next request', async (t) => {
    const { port } = await appWith(t, Infinity, 64 * MiB);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    t.after(() => agent.destroy());
    const refused = await post(port, '/refused', 8 * MiB, agent);
    assert.equal(refused.status, 503);
    assert.equal(await refused.uploaded, true);
    const next = await post(port, '/read', 1000, agent);
    assert.equal(next.status, 200);
    assert.deepEqual(JSON.parse(next.body), { bytes: 1000 });
    assert.ok(next.reusedSocket, "the second request went over the first one's connection");
  });

  it('are read no faster than the shared rate: the answer comes first, the body waits', async (t) => {
    const { seen, port } = await appWith(t, 1024, 64 * MiB);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    t.after(() => agent.destroy());
    const refused = await post(port, '/refused', 32 * MiB, agent);
    assert.equal(refused.status, 503);
    // Node alone would read the 32 MiB within milliseconds of the answer; at 1 KiB/s it cannot.
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(seen.refused?.complete, false);
  });

  it("are finished at once when they have wholly arrived, so the connection's next requests do not stack up behind them", async (t) => {
    const { seen, port } = await appWith(t, 1, 64 * MiB);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    t.after(() => agent.destroy());
    for (let i = 0; i < 12; i++) {
      const refused = await post(port, '/refused', 100, agent);
      assert.equal(refused.status, 503);
      await until(() => seen.refused?.readableEnded === true);
      assert.equal(seen.refused?.readableEnded, true, `refused request ${i} was read to its end`);
      assert.ok(seen.refused!.socket.listenerCount('close') < 5, 'no listener left behind per request');
    }
  });

  it('do not hold up shutdown: a body still arriving has its connection closed', async (t) => {
    const { app, seen, port } = await appWith(t, 1024, 64 * MiB);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    t.after(() => agent.destroy());
    const refused = await post(port, '/refused', 32 * MiB, agent);
    assert.equal(refused.status, 503);
    await app.close();
    assert.equal(await refused.uploaded, false);
    assert.equal(seen.refused?.complete, false);
  });

  it('close their connection once past MAX_BODY_BYTES', async (t) => {
    const { seen, port } = await appWith(t, Infinity, 4 * MiB);
    // The body is sent only once the answer is in: a connection closed with bytes unread is reset,
    // and a reset arriving before the client has read the answer would take the answer with it.
    const req = httpRequest({
      host: '127.0.0.1',
      port,
      path: '/refused',
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream', 'content-length': 32 * MiB },
    });
    t.after(() => req.destroy());
    req.on('error', () => {});
    const closed = new Promise<void>(
      (done) => req.socket?.once('close', done) ?? req.once('socket', (socket) => socket.once('close', done)),
    );
    req.flushHeaders();
    const res = await new Promise<IncomingMessage>((done) => req.once('response', done));
    assert.equal(res.statusCode, 503);
    res.resume();
    req.end(Buffer.alloc(32 * MiB));
    await until(() => seen.refused?.socket.destroyed === true);
    assert.equal(seen.refused?.socket.destroyed, true, 'the server closed the connection');
    await closed;
  });

  it('cut into chunks too fine are read no further, and their connection closed once the answer had time to be read', async (t) => {
    const { seen, port } = await appWith(t, Infinity, 64 * MiB);
    const socket = connect(port, '127.0.0.1');
    t.after(() => socket.destroy());
    socket.on('error', () => {});
    let answer = '';
    socket.on('data', (d) => (answer += d.toString('latin1')));
    const closed = new Promise<number>((done) => socket.once('close', () => done(performance.now())));
    socket.write(
      'POST /refused HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n',
    );
    await until(() => answer.length > 0);
    const answeredAt = performance.now();
    // 1 M chunks of one byte, 6 MiB of the wire.
    const chunks = Buffer.from('1\r\nA\r\n'.repeat(2 ** 14));
    for (let i = 0; i < 64; i++) socket.write(chunks);
    const closedAt = await Promise.race([closed, new Promise<number>((r) => setTimeout(r, 10_000, Infinity))]);
    assert.match(answer, /^HTTP\/1\.1 503 /);
    assert.ok(closedAt < Infinity, 'the connection was closed');
    assert.equal(seen.refused?.complete, false, 'the body was not read to its end');
    assert.ok(closedAt - answeredAt >= REFUSAL_LINGER_MS - 100, `closed ${closedAt - answeredAt} ms after the answer`);
  });

  it('close the connection of one that trickles in below the minimum rate: a refusal holds no socket for long', async (t) => {
    const { seen, port } = await appWith(t, Infinity, 4 * MiB, new Uploads({ minBytesPerSecond: 1000, windowMs: 500 }));
    const s = trickle(port, '/refused', { declared: MiB, everyMs: 100 });
    t.after(() => s.stop());
    const answer = await s.answered;
    assert.equal(answer.status, 503, 'its answer came first');
    assert.equal(seen.refused?.socket.destroyed, true, 'then its connection was closed');
  });
});
