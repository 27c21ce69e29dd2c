import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { type RunningServer, startServer } from '../../scripts/server-process.js';
import { projectRoot } from '../helpers/paths.js';

/** The gRPC examples, run as a user would against the built server's gRPC port on loopback. */
const run = promisify(execFile);
const examples = join(projectRoot, 'examples');

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

let server: RunningServer;
let address: string;
before(async () => {
  const port = await freePort();
  server = await startServer({ WORKERS: '1', GRPC_PORT: String(port) });
  address = `127.0.0.1:${port}`;
  const started = Date.now();
  while (!server.logs.some((l) => l.msg === 'gRPC (Open Inference Protocol) listening')) {
    assert.ok(Date.now() - started < 10_000, 'gRPC listens');
    await new Promise((r) => setTimeout(r, 20));
  }
});
after(async () => {
  server.child.kill('SIGTERM');
  await server.exited;
});

const env = () => ({ PATH: process.env.PATH ?? '', CONVSVC_GRPC: address });

const PYTHON = '/usr/bin/python3';
const pythonReady = spawnSync(PYTHON, ['-c', 'import grpc, google.protobuf, numpy'], { stdio: 'ignore' }).status === 0;
const stubsReady =
  spawnSync(PYTHON, ['-c', 'import grpc_tools'], { stdio: 'ignore' }).status === 0 ||
  (spawnSync('protoc', ['--version'], { stdio: 'ignore' }).status === 0 &&
    spawnSync('which', ['grpc_python_plugin'], { stdio: 'ignore' }).status === 0);

describe('examples/ over gRPC', () => {
  it('grpc_client.ts: ModelInfer from raw and from typed contents agree', async () => {
    const compiled = fileURLToPath(new URL('../../examples/grpc_client.js', import.meta.url));
    const { stdout } = await run(process.execPath, [compiled], { env: env(), timeout: 30_000 });
    assert.match(stdout, /^convsvc \d+\.\d+\.\d+ over gRPC$/m);
    assert.match(stdout, /ModelInfer \(raw contents\): output FP32 \[2, 3, 16, 16\]/);
    assert.match(stdout, /raw and typed contents agree bit for bit/);
  });

  it('grpc_client.py: grpcio + numpy, ModelInfer from raw and from typed contents agree', async (t) => {
    if (!pythonReady || !stubsReady)
      return t.skip(
        `${PYTHON} with grpc, protobuf and numpy, and protoc with grpc_python_plugin, are not installed (Debian: python3-grpcio python3-protobuf python3-numpy protobuf-compiler protobuf-compiler-grpc): the Python gRPC example was not run`,
      );
    const { stdout } = await run(PYTHON, [join(examples, 'grpc_client.py')], { env: env(), timeout: 60_000 });
    assert.match(stdout, /ModelInfer \(raw contents\): output FP32 \(2, 3, 16, 16\)/);
    assert.match(stdout, /raw and typed contents agree bit for bit/);
  });
});
