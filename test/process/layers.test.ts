import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { type RunningServer, startServer } from '../../scripts/server-process.js';
import { layerConfig, loadBody, safetensors } from '../helpers/layers.js';

/** Stored layers in real server processes: MODEL_REPOSITORY at start, and loads reaching every process. */

const UP = { op: 'conv_transpose2d' as const, params: { stride_h: 2, stride_w: 2 } };
const tensors = (scale = 1) => ({
  weight: { shape: [3, 2, 3, 3], values: Float32Array.from({ length: 54 }, (_, i) => scale * ((i % 7) - 3)) },
  bias: { shape: [2], values: Float32Array.from([0.5, -0.5]) },
});
const inferBody = JSON.stringify({
  inputs: [{ name: 'input', shape: [1, 3, 2, 2], datatype: 'FP32', data: Array.from({ length: 12 }, (_, i) => i) }],
});

let ids = 0;
/** One request on a connection of its own (the primary hands each new connection to the next process), with an id to find its log lines. */
function once(url: string, path: string, body?: string): Promise<{ status: number; text: string; id: string }> {
  const id = `layers-test-${++ids}`;
  return new Promise((resolve, reject) => {
    const req = request(
      `${url}${path}`,
      {
        method: body === undefined ? 'GET' : 'POST',
        agent: false,
        headers: { 'x-request-id': id, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode!, text, id }));
      },
    );
    req.on('error', reject);
    req.setTimeout(20_000, () => req.destroy(new Error(`no answer to ${path}`)));
    req.end(body);
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The pid of the process that answered the request with this id. */
const answeredBy = (server: RunningServer, id: string) =>
  server.logs.find((l) => l.reqId === id && l.msg === 'request completed')?.pid as number | undefined;

async function ready(server: RunningServer) {
  for (let i = 0; i < 400; i++) {
    if ((await once(server.url, '/health/ready').catch(() => ({ status: 0 }))).status === 200) return;
    await sleep(25);
  }
  assert.fail('the service did not become ready');
}

/** Infers on `name` over new connections until both processes answered; every answer's status. */
async function fromBoth(server: RunningServer, name: string): Promise<Map<number, number[]>> {
  const byPid = new Map<number, number[]>();
  for (let i = 0; i < 40 && byPid.size < 2; i++) {
    const res = await once(server.url, `/v2/models/${name}/infer`, inferBody);
    await sleep(5);
    const pid = answeredBy(server, res.id);
    if (pid !== undefined) byPid.set(pid, [...(byPid.get(pid) ?? []), res.status]);
  }
  return byPid;
}

describe('stored layers in server processes', () => {
  it('serves MODEL_REPOSITORY at start; a broken layer is UNAVAILABLE with its reason and the others serve', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'convsvc-repo-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    for (const [name, config] of [
      ['good', JSON.stringify(layerConfig(UP))],
      ['broken', JSON.stringify({ backend: 'convsvc', parameters: { op: { string_value: 'conv3d' } } })],
    ]) {
      mkdirSync(join(dir, name, '1'), { recursive: true });
      writeFileSync(join(dir, name, 'config.json'), config);
      writeFileSync(join(dir, name, '1', 'model.safetensors'), safetensors(tensors()));
    }
    const server = await startServer({ MODEL_REPOSITORY: dir });
    t.after(() => server.child.kill('SIGKILL'));
    const index = JSON.parse((await once(server.url, '/v2/repository/index', '{}')).text);
    assert.deepEqual(
      index.map((e: { name: string; state: string }) => [e.name, e.state]),
      [
        ['broken', 'UNAVAILABLE'],
        ['good', 'READY'],
      ],
    );
    assert.match(index[0].reason, /parameters\.op/);
    const res = await once(server.url, '/v2/models/good/infer', inferBody);
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(JSON.parse(res.text).outputs[0].shape, [1, 2, 5, 5]);
  });

  it('with HTTP_PROCESSES=2, a load answers once both processes serve the layer, an unload once neither does, and a restarted process loads the current set', async (t) => {
    const server = await startServer({ HTTP_PROCESSES: '2' });
    t.after(() => server.child.kill('SIGKILL'));
    await ready(server);
    const load = await once(
      server.url,
      '/v2/repository/models/up/load',
      JSON.stringify(loadBody(layerConfig(UP), safetensors(tensors()))),
    );
    assert.equal(load.status, 200, load.text);
    let byPid = await fromBoth(server, 'up');
    assert.equal(byPid.size, 2, 'both processes answered');
    for (const [pid, statuses] of byPid)
      assert.ok(
        statuses.every((s) => s === 200),
        `${pid}: ${statuses}`,
      );

    // A process that dies is restarted by the primary and serves the layer it never loaded itself.
    const [victim] = [...byPid.keys()];
    process.kill(victim, 'SIGKILL');
    await sleep(100);
    await ready(server);
    byPid = await fromBoth(server, 'up');
    assert.equal(byPid.size, 2);
    assert.ok(!byPid.has(victim), 'a new process answered');
    for (const [pid, statuses] of byPid)
      assert.ok(
        statuses.every((s) => s === 200),
        `${pid}: ${statuses}`,
      );

    const unload = await once(server.url, '/v2/repository/models/up/unload', '');
    assert.equal(unload.status, 200, unload.text);
    byPid = await fromBoth(server, 'up');
    assert.equal(byPid.size, 2);
    for (const [pid, statuses] of byPid)
      assert.ok(
        statuses.every((s) => s === 404),
        `${pid}: ${statuses}`,
      );

    // The copies the processes loaded from are the primary's, and leave with it.
    const copies = server.logs.find((l) => l.msg === 'starting server processes')?.layerCopies;
    assert.ok(typeof copies === 'string' && existsSync(copies), String(copies));
    assert.equal(statSync(copies).mode & 0o777, 0o700, 'readable by the service alone');
    server.child.kill('SIGTERM');
    assert.equal((await server.exited).code, 0);
    assert.ok(!existsSync(copies));
  });

  it('with HTTP_PROCESSES=2, whichever process answers the statistics reports the inferences of both', async (t) => {
    const server = await startServer({ HTTP_PROCESSES: '2' });
    t.after(() => server.child.kill('SIGKILL'));
    await ready(server);
    const load = await once(
      server.url,
      '/v2/repository/models/up/load',
      JSON.stringify(loadBody(layerConfig(UP), safetensors(tensors()))),
    );
    assert.equal(load.status, 200, load.text);
    const byPid = await fromBoth(server, 'up');
    assert.equal(byPid.size, 2, 'both processes answered');
    const inferences = [...byPid.values()].flat().length;

    // Each of the two routes, answered by each process: the success count of `up` it reported.
    const counts = new Map<string, number>();
    const count = (text: string) =>
      JSON.parse(text).model_stats.find((m: { name: string }) => m.name === 'up').inference_stats.success.count;
    for (let i = 0; i < 40 && counts.size < 4; i++) {
      // The primary hands connections to the processes in turn: the order changes, so each gets each route.
      const paths = ['/v2/models/stats', '/v2/models/up/stats'];
      for (const path of i % 2 === 0 ? paths : paths.reverse()) {
        const res = await once(server.url, path);
        assert.equal(res.status, 200, res.text);
        await sleep(5);
        const pid = answeredBy(server, res.id);
        if (pid !== undefined) counts.set(`${path} from ${pid}`, count(res.text));
      }
    }
    assert.equal(counts.size, 4, `both processes answered both routes: ${[...counts.keys()]}`);
    for (const [route, n] of counts) assert.equal(n, inferences, route);
  });

  it('with HTTP_PROCESSES=2, two loads of one name sent at once to the two processes leave both serving the same weights', async (t) => {
    const server = await startServer({ HTTP_PROCESSES: '2' });
    t.after(() => server.child.kill('SIGKILL'));
    await ready(server);
    const loadOf = (scale: number) =>
      once(
        server.url,
        '/v2/repository/models/up/load',
        JSON.stringify(loadBody(layerConfig(UP), safetensors(tensors(scale)))),
      );
    let raced = 0;
    for (let attempt = 0; attempt < 5 && raced < 2; attempt++) {
      const [a, b] = await Promise.all([loadOf(1), loadOf(-2)]);
      assert.equal(a.status, 200, a.text);
      assert.equal(b.status, 200, b.text);
      await sleep(20);
      const pids = new Set([answeredBy(server, a.id), answeredBy(server, b.id)]);
      if (pids.size === 2 && !pids.has(undefined)) raced++;
      else continue;

      const outputs = new Map<number, string>();
      for (let i = 0; i < 40 && outputs.size < 2; i++) {
        const res = await once(server.url, '/v2/models/up/infer', inferBody);
        assert.equal(res.status, 200, res.text);
        await sleep(5);
        const pid = answeredBy(server, res.id);
        if (pid !== undefined) outputs.set(pid, JSON.stringify(JSON.parse(res.text).outputs[0].data));
      }
      assert.equal(outputs.size, 2, 'both processes answered');
      const [first, second] = [...outputs.values()];
      assert.equal(first, second, 'both processes serve the same version');
    }
    assert.equal(raced, 2, 'the loads reached both processes at once');
  });
});
