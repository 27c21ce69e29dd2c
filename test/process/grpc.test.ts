import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { credentials, Metadata, type ServiceError, status } from '@grpc/grpc-js';
import { type RunningServer, startServer } from '../../scripts/server-process.js';
import { layerConfig, safetensors } from '../helpers/layers.js';
import { fixturePath, projectRoot } from '../helpers/paths.js';
import { CLIENT_OPTIONS, InferenceClient, PROTO_DIR } from '../src/grpc/client.js';

/** The built server's gRPC port as a real process: alone, under node:cluster, and from Python. */

const run = promisify(execFile);

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const started = Date.now();
  while (!(await check())) {
    assert.ok(Date.now() - started < timeoutMs, `timed out waiting until ${what}`);
    await sleep(20);
  }
}

async function startWithGrpc(env: Record<string, string> = {}): Promise<{ server: RunningServer; address: string }> {
  const port = await freePort();
  const server = await startServer({ GRPC_PORT: String(port), ...env });
  const address = `127.0.0.1:${port}`;
  await until(
    'gRPC listens',
    () => server.logs.filter((l) => l.msg === 'gRPC (Open Inference Protocol) listening').length > 0,
  );
  return { server, address };
}

/** One call on a channel of its own (a new connection: node:cluster hands each to the next process). */
function callOnce(address: string, method: string, request: unknown): Promise<any> {
  const client = new InferenceClient(address, credentials.createInsecure(), {
    ...CLIENT_OPTIONS,
    // A channel of its own, not grpc-js's shared subchannel pool.
    'grpc.use_local_subchannel_pool': 1,
  });
  return new Promise((resolve, reject) =>
    (client as any)[method](
      request,
      new Metadata(),
      { deadline: Date.now() + 30_000 },
      (err: ServiceError | null, res: unknown) => {
        client.close();
        err ? reject(err) : resolve(res);
      },
    ),
  );
}

const f32 = (values: number[]) => Buffer.from(Float32Array.from(values).buffer);
const small = {
  model_name: 'conv_transpose2d',
  parameters: { stride_h: { int64_param: 2 }, stride_w: { int64_param: 2 } },
  inputs: [
    { name: 'input', datatype: 'FP32', shape: [1, 1, 2, 2] },
    { name: 'weight', datatype: 'FP32', shape: [1, 1, 3, 3] },
  ],
  raw_input_contents: [f32([1, 2, 3, 4]), f32(new Array(9).fill(1))],
};
const FIVE_BY_FIVE = [1, 1, 3, 2, 2, 1, 1, 3, 2, 2, 4, 4, 10, 6, 6, 3, 3, 7, 4, 4, 3, 3, 7, 4, 4];
const outputOf = (res: { raw_output_contents: Buffer[] }) => {
  const b = res.raw_output_contents[0];
  return [...new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length))];
};

describe('gRPC from a real server process', () => {
  it('answers on GRPC_PORT and stops with its HTTP on SIGTERM, exit code 0', async () => {
    const { server, address } = await startWithGrpc();
    try {
      assert.deepEqual(outputOf(await callOnce(address, 'ModelInfer', small)), FIVE_BY_FIVE);
    } finally {
      server.child.kill('SIGTERM');
    }
    assert.deepEqual(await server.exited, { code: 0, signal: null });
  });

  it('GRPC_PORT=0 serves no gRPC', async () => {
    const server = await startServer({ GRPC_PORT: '0' });
    try {
      assert.equal(server.logs.filter((l) => l.msg === 'gRPC (Open Inference Protocol) listening').length, 0);
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
  });

  it('with two server processes, both serve gRPC on the one port; SIGTERM drains calls in flight in both', async () => {
    const { server, address } = await startWithGrpc({ HTTP_PROCESSES: '2', WORKERS: '1', GEMM_VARIANT: 'typescript' });
    try {
      await until('every process is up', async () => (await fetch(`${server.url}/health/ready`)).status === 200);
      for (let i = 0; i < 8; i++)
        assert.deepEqual(outputOf(await callOnce(address, 'ModelInfer', small)), FIVE_BY_FIVE);
      const answeredBy = () => new Set(server.logs.filter((l) => l.msg === 'gRPC call completed').map((l) => l.pid));
      await until('both processes logged a gRPC answer', () => answeredBy().size === 2, 5000);
      const listening = server.logs.filter((l) => l.msg === 'gRPC (Open Inference Protocol) listening');
      assert.equal(new Set(listening.map((l) => l.pid)).size, 2, 'each process listens');
      // ~1.2 G multiply-adds each, on the TypeScript GEMM: in flight in both processes when SIGTERM
      // lands, even with each split over both cores on a fast Node.
      const zeros = (n: number) => Buffer.alloc(n * 4);
      const slow = {
        model_name: 'conv2d',
        parameters: { padding_h: { int64_param: 1 }, padding_w: { int64_param: 1 } },
        inputs: [
          { name: 'input', datatype: 'FP32', shape: [1, 256, 64, 64] },
          { name: 'weight', datatype: 'FP32', shape: [128, 256, 3, 3] },
        ],
        raw_input_contents: [zeros(256 * 64 * 64), zeros(128 * 256 * 9)],
      };
      const inFlight = Array.from({ length: 4 }, () =>
        callOnce(address, 'ModelInfer', slow).then((res) => ({ res, at: Date.now() })),
      );
      // Well inside the seconds each call takes on the TypeScript GEMM.
      await sleep(400);
      const killedAt = Date.now();
      server.child.kill('SIGTERM');
      for (const { res, at } of await Promise.all(inFlight)) {
        assert.deepEqual(res.outputs[0].shape, [1, 128, 64, 64]);
        assert.ok(at > killedAt, 'answered after SIGTERM: it was in flight');
      }
    } finally {
      server.child.kill('SIGTERM');
    }
    assert.deepEqual(await server.exited, { code: 0, signal: null });
  });
});

describe('stored layers over gRPC with two server processes', () => {
  it('a layer loaded over gRPC serves in every process when the load answers; unloaded, in none', async () => {
    const { server, address } = await startWithGrpc({ HTTP_PROCESSES: '2', WORKERS: '1' });
    try {
      await until('every process is up', async () => (await fetch(`${server.url}/health/ready`)).status === 200);
      const config = layerConfig({ op: 'conv_transpose2d', params: { stride_h: 2, stride_w: 2 } });
      const file = safetensors({ weight: { shape: [1, 1, 3, 3], values: new Float32Array(9).fill(1) } });
      await callOnce(address, 'RepositoryModelLoad', {
        model_name: 'up',
        parameters: {
          config: { string_param: JSON.stringify(config) },
          'file:1/model.safetensors': { bytes_param: file },
        },
      });
      const onLayer = {
        model_name: 'up',
        inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 1, 2, 2] }],
        raw_input_contents: [f32([1, 2, 3, 4])],
      };
      for (let i = 0; i < 8; i++)
        assert.deepEqual(outputOf(await callOnce(address, 'ModelInfer', onLayer)), FIVE_BY_FIVE);
      const inferredBy = () =>
        new Set(server.logs.filter((l) => l.msg === 'gRPC call completed' && l.rpc === 'ModelInfer').map((l) => l.pid));
      await until('both processes ran the layer', () => inferredBy().size === 2, 5000);
      await callOnce(address, 'RepositoryModelUnload', { model_name: 'up' });
      for (let i = 0; i < 4; i++) {
        const err = await callOnce(address, 'ModelInfer', onLayer).then(
          () => assert.fail('the unloaded layer answered'),
          (e: ServiceError) => e,
        );
        assert.equal(err.code, status.NOT_FOUND);
      }
    } finally {
      server.child.kill('SIGTERM');
    }
    assert.deepEqual(await server.exited, { code: 0, signal: null });
  });
});

/** Debian's grpcio and protobuf are for /usr/bin/python3; protoc and its gRPC plugin make the stubs. */
const PYTHON = '/usr/bin/python3';
const pythonReady = spawnSync(PYTHON, ['-c', 'import grpc, google.protobuf, numpy'], { stdio: 'ignore' }).status === 0;
const protocReady =
  spawnSync('protoc', ['--version'], { stdio: 'ignore' }).status === 0 &&
  spawnSync('which', ['grpc_python_plugin'], { stdio: 'ignore' }).status === 0;

describe('a Python gRPC client (grpcio, stubs generated from proto/ by protoc)', () => {
  it('gets every PyTorch golden case right, from raw and typed contents, and the protocol’s other answers, a stored layer loaded and run among them', async (t) => {
    if (!pythonReady || !protocReady)
      return t.skip(
        'needs /usr/bin/python3 with grpc, protobuf and numpy, protoc and grpc_python_plugin (Debian: python3-grpcio python3-protobuf python3-numpy protobuf-compiler protobuf-compiler-grpc): not run',
      );
    const stubs = mkdtempSync(join(tmpdir(), 'convsvc-grpc-stubs-'));
    t.after(() => rmSync(stubs, { recursive: true, force: true }));
    const plugin = spawnSync('which', ['grpc_python_plugin'], { encoding: 'utf8' }).stdout.trim();
    const protoc = spawnSync(
      'protoc',
      [
        `-I${PROTO_DIR}`,
        `--python_out=${stubs}`,
        `--grpc_python_out=${stubs}`,
        `--plugin=protoc-gen-grpc_python=${plugin}`,
        'grpc_service.proto',
        'health.proto',
      ],
      { encoding: 'utf8' },
    );
    assert.equal(protoc.status, 0, protoc.stderr);
    const { server, address } = await startWithGrpc({ WORKERS: '2' });
    try {
      const { stdout } = await run(
        PYTHON,
        [join(projectRoot, 'test', 'process', 'grpc_golden_client.py'), stubs, address, fixturePath('golden')],
        { timeout: 300_000, maxBuffer: 16 * 2 ** 20 },
      );
      const summary = JSON.parse(stdout.trim().split('\n').pop()!);
      assert.deepEqual(summary.failures, []);
      assert.ok(summary.cases >= 20, `${summary.cases} cases`);
      assert.equal(summary.live, true);
      assert.equal(summary.ready, true);
      assert.equal(summary.server, 'convsvc');
      assert.deepEqual(summary.conv_transpose2d_inputs, ['input', 'weight', 'bias']);
      assert.equal(summary.health, 'SERVING');
      assert.equal(summary.unknown_model[0], 'NOT_FOUND');
      assert.match(summary.unknown_model[1], /^no model conv3d; the models are /);
      // A stored layer loaded, run, counted and unloaded over gRPC.
      const { layer } = summary;
      assert.ok(layer.shape_ok, JSON.stringify(layer));
      assert.ok(layer.max_error <= layer.tolerance, JSON.stringify(layer));
      assert.equal(layer.success_count, 1);
      assert.deepEqual(layer.indexed, ['golden_layer']);
      assert.equal(layer.after_unload, 'NOT_FOUND');
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
  });
});
