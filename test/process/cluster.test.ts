import assert from 'node:assert/strict';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { describe, it } from 'node:test';
import { type RunningServer, startServer } from '../../scripts/server-process.js';
import { availableCores } from '../../src/cpu-limit.js';

/** HTTP_PROCESSES=2: a primary and two server processes on one port (src/cluster/primary.ts). */

const small = JSON.stringify({
  input: { shape: [1, 1, 2, 2], data: [1, 2, 3, 4] },
  weight: { shape: [1, 1, 3, 3], data: [1, 1, 1, 1, 1, 1, 1, 1, 1] },
});

/** One request on a connection of its own (Node's primary hands each new connection to the next process). */
function once(
  url: string,
  path: string,
  { method = 'GET', body, timeoutMs = 10_000 }: { method?: string; body?: string; timeoutMs?: number } = {},
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${url}${path}`,
      { method, agent: false, headers: body ? { 'content-type': 'application/json' } : {} },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode!, text }));
      },
    );
    req.on('error', reject);
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer to ${method} ${path} within ${timeoutMs} ms`)));
    req.end(body);
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A probe: a connection refused, reset or lost while a process is going away is "not yet", like
 * a 503 (a connection the primary handed to a process in the instant it died gets no answer).
 */
const statusOf = (url: string, path: string) =>
  once(url, path, { timeoutMs: 500 }).then(
    (r) => r,
    () => ({ status: 0, text: '' }),
  );

async function until<T>(
  what: string,
  get: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 15_000,
): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = await get();
    if (value !== undefined) return value;
    assert.ok(Date.now() - started < timeoutMs, `timed out waiting until ${what}`);
    await sleep(20);
  }
}

async function startCluster(env: Record<string, string> = {}): Promise<RunningServer> {
  const server = await startServer({ HTTP_PROCESSES: '2', ...env });
  await until('every process is up', async () =>
    (await statusOf(server.url, '/health/ready')).status === 200 ? true : undefined,
  );
  return server;
}

/** The pids of the server processes, as the primary logged them. */
const serverPids = (server: RunningServer) =>
  server.logs.filter((l) => l.msg === 'server process listening').map((l) => l.workerPid as number);

async function stopped(server: RunningServer) {
  server.child.kill('SIGTERM');
  return server.exited;
}

describe('a service of two server processes', () => {
  it('serves from both processes on one port', async () => {
    const server = await startCluster();
    try {
      for (let i = 0; i < 8; i++)
        assert.equal(
          (await once(server.url, '/v1/conv-transpose2d/forward', { method: 'POST', body: small })).status,
          200,
        );
      const answeredBy = () => new Set(server.logs.filter((l) => l.msg === 'request completed').map((l) => l.pid));
      // Log lines travel a pipe of their own: they may come in just after the answers.
      await until('both processes logged an answer', () => (answeredBy().size === 2 ? true : undefined), 5000);
      assert.deepEqual(new Set(serverPids(server)), answeredBy());
    } finally {
      assert.deepEqual(await stopped(server), { code: 0, signal: null });
    }
  });

  it('restarts a process that dies, and is not ready until it is back', async () => {
    const server = await startCluster();
    try {
      const [victim] = serverPids(server);
      process.kill(victim!, 'SIGKILL');
      // The other process answers meanwhile, and says why it is not ready.
      const notReady = await until('readiness fails', async () => {
        const r = await statusOf(server.url, '/health/ready');
        return r.status === 503 ? r.text : undefined;
      });
      assert.match(notReady, /1 of 2 server processes is down \(restarting\)/);
      const died = server.logs.find((l) => l.msg === 'server process died; restarting it');
      assert.equal(died?.workerPid, victim);
      assert.equal(died?.signal, 'SIGKILL');
      assert.equal(typeof died?.restartInMs, 'number');
      await until('it is back', async () =>
        (await statusOf(server.url, '/health/ready')).status === 200 ? true : undefined,
      );
      // The primary's log line travels its own pipe: it may come in just after the answer.
      await until('the primary logged a third process listening', () =>
        serverPids(server).length === 3 ? true : undefined,
      );
      assert.equal(
        (await once(server.url, '/v1/conv-transpose2d/forward', { method: 'POST', body: small })).status,
        200,
      );
      assert.match((await once(server.url, '/metrics')).text, /^convsvc_http_process_restarts_total 1$/m);
    } finally {
      assert.deepEqual(await stopped(server), { code: 0, signal: null });
    }
  });

  it('answers /metrics from any process with the totals of both', async () => {
    const server = await startCluster();
    try {
      for (let i = 0; i < 10; i++)
        await once(server.url, '/v1/conv-transpose2d/forward', { method: 'POST', body: small });
      const answeredBy = () =>
        new Set(
          server.logs
            .filter((l) => l.msg === 'request completed' && (l.res as { statusCode?: number })?.statusCode === 200)
            .map((l) => l.pid),
        );
      await until('both processes logged an answer', () => (answeredBy().size === 2 ? true : undefined), 5000);
      for (let i = 0; i < 2; i++) {
        const text = (await once(server.url, '/metrics')).text;
        assert.match(
          text,
          /^convsvc_http_requests_total\{method="POST",route="\/v1\/conv-transpose2d\/forward",status="200"\} 10$/m,
        );
        assert.match(text, /^convsvc_http_processes_up 2$/m);
        assert.match(text, /^convsvc_pool_workers 2$/m, 'one kernel thread in each of two processes');
        assert.match(
          text,
          /^convsvc_gemm_variant_info\{dtype="float32",.*\} 1$/m,
          'the same GEMM everywhere reads 1, not 2',
        );
      }
    } finally {
      await stopped(server);
    }
  });

  it('holds the rate limit for the whole service, not per process', async () => {
    const server = await startCluster({ RATE_LIMIT_MAX: '4', RATE_LIMIT_WINDOW_MS: '60000' });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 8; i++)
        statuses.push((await once(server.url, '/v1/conv-transpose2d/forward', { method: 'POST', body: small })).status);
      assert.deepEqual(statuses, [200, 200, 200, 200, 429, 429, 429, 429]);
      await until(
        'both processes logged a request they counted',
        () =>
          new Set(server.logs.filter((l) => l.msg === 'request completed').map((l) => l.pid)).size === 2
            ? true
            : undefined,
        5000,
      );
    } finally {
      await stopped(server);
    }
  });

  it('on SIGTERM drains every process, finishing the work in flight, and exits 0', async () => {
    // ~0.3 G multiply-adds each: long enough to be in flight in both processes when SIGTERM lands.
    const zeros = (shape: number[]) => ({
      shape,
      b64: Buffer.alloc(shape.reduce((a, b) => a * b, 1) * 4).toString('base64'),
    });
    const body = JSON.stringify({ input: zeros([1, 64, 64, 64]), weight: zeros([128, 64, 3, 3]), padding: 1 });
    const server = await startCluster({ MAX_MACS: String(2 ** 40), GEMM_VARIANT: 'typescript' });
    const inFlight = Array.from({ length: 4 }, () => once(server.url, '/v1/conv2d/forward', { method: 'POST', body }));
    await until('the requests reached both processes', () => {
      const pids = server.logs
        .filter((l) => l.msg === 'incoming request' && (l.req as { url?: string })?.url === '/v1/conv2d/forward')
        .map((l) => l.pid);
      return pids.length === 4 && new Set(pids).size === 2 ? true : undefined;
    });
    server.child.kill('SIGTERM');
    for (const answer of await Promise.all(inFlight)) assert.equal(answer.status, 200);
    assert.deepEqual(await server.exited, { code: 0, signal: null });
    const stoppedLogs = server.logs.filter((l) => l.msg === 'server process stopped');
    assert.deepEqual(
      stoppedLogs.map((l) => l.code),
      [0, 0],
    );
  });

  it('splits one large request over every core of an idle host, and runs no more kernels at once than there are cores', async (t) => {
    const cores = availableCores();
    if (cores < 2) return t.skip(`one core: nothing to split over (${cores})`);
    const zeros = (shape: number[]) => ({
      shape,
      b64: Buffer.alloc(shape.reduce((a, b) => a * b, 1) * 4).toString('base64'),
    });
    // ~0.3 G multiply-adds per sample on the TypeScript GEMM: long enough to watch.
    const body = JSON.stringify({ input: zeros([cores, 64, 64, 64]), weight: zeros([128, 64, 3, 3]), padding: 1 });
    // WORKERS unset: each process may grow to a thread per core, and keeps its share warm.
    const server = await startCluster({ WORKERS: '', MAX_MACS: String(2 ** 40), GEMM_VARIANT: 'typescript' });
    const metric = (text: string, name: string) => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(text)?.[1]);
    try {
      const warm = Math.ceil(cores / 2);
      assert.equal(
        metric((await once(server.url, '/metrics')).text, 'convsvc_pool_workers'),
        2 * warm,
        'each process keeps its share of the cores warm',
      );
      assert.equal((await once(server.url, '/v1/conv2d/forward', { method: 'POST', body })).status, 200);
      assert.equal(
        metric((await once(server.url, '/metrics')).text, 'convsvc_pool_workers'),
        2 * warm + (cores - warm),
        'one process started a thread for every core',
      );

      const load = Array.from({ length: 3 * cores }, () =>
        once(server.url, '/v1/conv2d/forward', { method: 'POST', body, timeoutMs: 120_000 }),
      );
      let sawWaiting = false;
      let settled = false;
      void Promise.all(load).then(() => (settled = true));
      while (!settled) {
        const text = (await once(server.url, '/metrics')).text;
        assert.ok(metric(text, 'convsvc_kernel_slots_in_use') <= cores, 'at most a kernel per core at once');
        assert.ok(metric(text, 'convsvc_pool_workers') <= 2 * cores, 'no process grows past a thread per core');
        if (metric(text, 'convsvc_kernel_slots_waiting') > 0) sawWaiting = true;
        await sleep(50);
      }
      for (const answer of await Promise.all(load)) assert.equal(answer.status, 200);
      assert.ok(sawWaiting, 'kernels waited for a core');
    } finally {
      await stopped(server);
    }
  });

  it('exits 1 when its processes cannot listen', async () => {
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    const port = (taken.address() as { port: number }).port;
    try {
      const failed = startServer({ HTTP_PROCESSES: '2', PORT: String(port) }, { timeoutMs: 15_000 });
      await assert.rejects(failed, /server exited \(1\) before listening/);
    } finally {
      taken.close();
    }
  });
});
