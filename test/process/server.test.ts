import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { startServer } from '../../scripts/server-process.js';
import { projectRoot } from '../helpers/paths.js';
import { trickle } from '../helpers/raw-http.js';

/** The real process: start-up, configuration errors, and SIGTERM with work in flight. */

const zeros = (shape: number[]) => ({
  shape,
  b64: Buffer.alloc(shape.reduce((a, b) => a * b, 1) * 4).toString('base64'),
});

describe('the server process', () => {
  it('starts, answers health and an op, and logs each request with its id', async () => {
    const server = await startServer();
    try {
      const live = await fetch(`${server.url}/health/live`);
      assert.deepEqual(await live.json(), { status: 'ok' });
      const res = await fetch(`${server.url}/v1/im2col`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-request-id': 'proc-test-1' },
        body: JSON.stringify({ input: { shape: [1, 2, 2], data: [1, 2, 3, 4] }, kernelSize: 2 }),
      });
      assert.equal(res.status, 200);
      assert.deepEqual(((await res.json()) as { columns: unknown }).columns, {
        shape: [4, 1],
        dtype: 'float32',
        data: [1, 2, 3, 4],
      });
      await new Promise((r) => setTimeout(r, 50));
      const lines = server.logs.filter((l) => l.reqId === 'proc-test-1');
      assert.ok(lines.length >= 2, 'request and response are logged with the request id');
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
  });

  it('starts and runs kernels under V8 heap flags, which worker threads refuse (node --max-old-space-size ...)', async () => {
    const server = await startServer(
      { WORKERS: '2' },
      { nodeArgs: ['--max-old-space-size=1024', '--initial-heap-size=64', '--enable-source-maps'] },
    );
    try {
      const res = await fetch(`${server.url}/v1/im2col`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ input: { shape: [1, 2, 2], data: [1, 2, 3, 4] }, kernelSize: 2 }),
      });
      assert.equal(res.status, 200, server.stderr());
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
  });

  it('redacts the Authorization header in its logs', async () => {
    const server = await startServer({ API_KEYS: 'secret-key-1', LOG_LEVEL: 'debug' });
    try {
      const res = await fetch(`${server.url}/v1/im2col`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer secret-key-1' },
        body: JSON.stringify({ input: { shape: [1, 1, 1], data: [1] }, kernelSize: 1 }),
      });
      assert.equal(res.status, 200);
      await new Promise((r) => setTimeout(r, 50));
      assert.doesNotMatch(JSON.stringify(server.logs), /secret-key-1/);
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
  });

  it('refuses to start on a bad configuration value, naming it', () => {
    const run = spawnSync(process.execPath, [join(projectRoot, 'dist', 'src', 'server.js')], {
      env: { PATH: process.env.PATH ?? '', MAX_ELEMENTS: 'lots' },
      encoding: 'utf8',
      timeout: 20_000,
    });
    assert.equal(run.status, 2);
    assert.match(run.stderr, /MAX_ELEMENTS="lots": must be a whole number/);
  });

  it('on SIGTERM finishes the request in flight, refuses new ones, and exits 0', async () => {
    // ~0.6 G multiply-adds: long enough to still be running when SIGTERM arrives.
    const body = JSON.stringify({ input: zeros([1, 64, 64, 64]), weight: zeros([256, 64, 3, 3]), padding: 1 });
    const server = await startServer({ WORKERS: '1', MAX_MACS: String(2 ** 40) });
    const inFlight = fetch(`${server.url}/v1/conv2d/forward`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    const started = Date.now();
    while (
      !server.logs.some(
        (l) => l.msg === 'incoming request' && (l.req as { url?: string })?.url === '/v1/conv2d/forward',
      )
    ) {
      assert.ok(Date.now() - started < 10_000, 'the request reached the server');
      await new Promise((r) => setTimeout(r, 5));
    }
    server.child.kill('SIGTERM');
    const res = await inFlight;
    assert.equal(res.status, 200);
    assert.deepEqual(((await res.json()) as { output: { shape: number[] } }).output.shape, [1, 256, 64, 64]);
    const afterwards = await fetch(`${server.url}/health/live`).then(
      (r) => r.status,
      () => 'refused',
    );
    assert.ok(afterwards === 503 || afterwards === 'refused', `new work is refused (${afterwards})`);
    assert.deepEqual(await server.exited, { code: 0, signal: null });
  });
  it('on SIGTERM under load finishes every admitted request (running and queued), refuses new work, and exits 0', async () => {
    // ~0.3 G multiply-adds each, one worker: one runs, three wait in the queue when SIGTERM lands.
    const body = JSON.stringify({ input: zeros([1, 64, 64, 64]), weight: zeros([128, 64, 3, 3]), padding: 1 });
    const server = await startServer({ WORKERS: '1', MAX_QUEUE: '8', MAX_MACS: String(2 ** 40) });
    const post = () =>
      fetch(`${server.url}/v1/conv2d/forward`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
    let answered = 0;
    const inFlight = Array.from({ length: 4 }, () =>
      post().then((r) => {
        answered++;
        return r;
      }),
    );
    const started = Date.now();
    while (
      server.logs.filter(
        (l) => l.msg === 'incoming request' && (l.req as { url?: string })?.url === '/v1/conv2d/forward',
      ).length < 4
    ) {
      assert.ok(Date.now() - started < 10_000, 'the requests reached the server');
      await new Promise((r) => setTimeout(r, 5));
    }
    server.child.kill('SIGTERM');
    assert.ok(answered < 4, 'work was still in flight when SIGTERM arrived');
    // A signal is delivered when the process next runs: on a busy machine a request sent at once may get there first.
    while (!server.logs.some((l) => l.msg === 'shutting down: finishing in-flight requests')) {
      assert.ok(Date.now() - started < 20_000, 'the server took the signal');
      await new Promise((r) => setTimeout(r, 5));
    }
    const late = await fetch(`${server.url}/v1/conv2d/forward`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    }).then(
      (r) => r.status,
      () => 'refused',
    );
    assert.ok(late === 503 || late === 'refused', `new work is refused (${late})`);
    for (const res of await Promise.all(inFlight)) {
      assert.equal(res.status, 200);
      assert.deepEqual(((await res.json()) as { output: { shape: number[] } }).output.shape, [1, 128, 64, 64]);
    }
    assert.deepEqual(await server.exited, { code: 0, signal: null });
  });

  it('when work outlasts SHUTDOWN_GRACE_MS, cancels it with a 503 + Retry-After and exits 1 instead of hanging', async () => {
    // ~9.7 G multiply-adds on the TypeScript reference GEMM: seconds, far longer than the 300 ms
    // grace period on any machine (the native GEMM finishes it in ~0.3 s, too close to call).
    const body = JSON.stringify({ input: zeros([1, 256, 64, 64]), weight: zeros([1024, 256, 3, 3]), padding: 1 });
    const server = await startServer({
      WORKERS: '1',
      MAX_MACS: String(2 ** 40),
      SHUTDOWN_GRACE_MS: '300',
      REQUEST_TIMEOUT_MS: '600000',
      GEMM_VARIANT: 'typescript',
    });
    const inFlight = fetch(`${server.url}/v1/conv2d/forward`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    const started = Date.now();
    while (
      !server.logs.some(
        (l) => l.msg === 'incoming request' && (l.req as { url?: string })?.url === '/v1/conv2d/forward',
      )
    ) {
      assert.ok(Date.now() - started < 10_000, 'the request reached the server');
      await new Promise((r) => setTimeout(r, 5));
    }
    await new Promise((r) => setTimeout(r, 200));
    server.child.kill('SIGTERM');
    const res = await inFlight;
    assert.equal(res.status, 503);
    assert.ok(res.headers.get('retry-after'));
    assert.equal(((await res.json()) as { type: string }).type, '/problems/unavailable');
    assert.deepEqual(await server.exited, { code: 1, signal: null });
    assert.ok(server.logs.some((l) => l.msg === 'shutdown grace period passed; cancelling the work still in flight'));
  });

  it('on SIGTERM answers bodies still trickling in with 503 after a second, and exits 0 without waiting out the grace period', async () => {
    const server = await startServer({ SHUTDOWN_GRACE_MS: '20000', MIN_BODY_BYTES_PER_SECOND: '0' });
    const port = Number(new URL(server.url).port);
    const tricklers = Array.from({ length: 20 }, () => trickle(port, '/v1/conv2d/forward', { everyMs: 200 }));
    try {
      const metrics = async () => (await fetch(`${server.url}/metrics`)).text();
      const started = Date.now();
      while (!/convsvc_uploads_in_progress 20/.test(await metrics())) {
        assert.ok(Date.now() - started < 10_000, 'the uploads reached the server');
        await new Promise((r) => setTimeout(r, 20));
      }
      const signalled = Date.now();
      server.child.kill('SIGTERM');
      for (const answer of await Promise.all(tricklers.map((s) => s.answered))) {
        assert.equal(answer.status, 503, answer.head);
        assert.match(answer.body, /shutting down/);
      }
      assert.deepEqual(await server.exited, { code: 0, signal: null });
      assert.ok(Date.now() - signalled < 5000, `exited ${Date.now() - signalled} ms after SIGTERM`);
    } finally {
      for (const s of tricklers) s.stop();
      server.child.kill('SIGKILL');
    }
  });

  it('on SIGTERM finishes a request whose JSON body is being parsed off the event loop', async () => {
    const server = await startServer({ SHUTDOWN_GRACE_MS: '20000' });
    try {
      const n = 1_000_000;
      const body = `{"input":{"shape":[1,1,${n}],"data":[${'0.25,'.repeat(n - 1)}0.5]},"kernelSize":1}`;
      const { request } = await import('node:http');
      const answer = new Promise<{ status: number; text: string }>((resolve, reject) => {
        const req = request(
          `${server.url}/v1/im2col`,
          {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
          },
          (res) => {
            let text = '';
            res.setEncoding('utf8');
            res.on('data', (c: string) => (text += c));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
          },
        );
        req.on('error', reject);
        // The body has left: the server is receiving or parsing it when the signal lands.
        req.end(body, () => setTimeout(() => server.child.kill('SIGTERM'), 20));
      });
      const { status, text } = await answer;
      assert.equal(status, 200, text.slice(0, 300));
      assert.equal(JSON.parse(text).columns.shape.join(), [1, n].join());
      assert.deepEqual(await server.exited, { code: 0, signal: null });
    } finally {
      server.child.kill('SIGKILL');
    }
  });
});
