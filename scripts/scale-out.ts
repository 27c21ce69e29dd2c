/**
 * Scaling out on one machine, measured: REPLICAS servers on loopback behind nginx, driven with
 * autocannon through nginx; halfway through, one replica gets SIGTERM. It drains (readiness
 * fails, in-flight requests finish, new ones get 503 or a refused connection) and nginx retries
 * those on another replica, so no request fails.
 *
 *   needs:  nginx on PATH (Debian: apt-get install nginx; it runs as this user, in a temp dir)
 *           the built server (npm run build), or run this compiled next to it
 *   run:    npx tsx scripts/scale-out.ts        (REPLICAS=3 WORKERS=1 SECONDS=10 CONNECTIONS=16)
 *   exits:  0 when every request succeeded and the stopped replica exited 0; 1 otherwise;
 *           2 when a requirement is missing.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { projectRoot } from '../src/package-info.js';
import { SERVICE_NODE_FLAGS } from '../src/service-node-flags.js';

interface LoadResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number };
  '2xx': number;
  non2xx: number;
  errors: number;
  timeouts: number;
}
type Autocannon = (options: Record<string, unknown>) => Promise<LoadResult>;
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

const REPLICAS = Number(process.env.REPLICAS ?? 3);
const WORKERS = Number(process.env.WORKERS ?? 1);
const SECONDS = Number(process.env.SECONDS ?? 10);
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 16);

/** The server next to this module when compiled, else the build. */
const SERVER = import.meta.url.endsWith('.js')
  ? fileURLToPath(new URL('../src/server.js', import.meta.url))
  : join(projectRoot, 'dist', 'src', 'server.js');

function requirements(): string[] {
  const missing: string[] = [];
  if (spawnSync('nginx', ['-v'], { stdio: 'ignore' }).status !== 0)
    missing.push('nginx on PATH (Debian: apt-get install nginx)');
  if (!existsSync(SERVER)) missing.push(`the built server at ${SERVER} (npm run build)`);
  return missing;
}

const freePort = () =>
  new Promise<number>((done) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => done(port));
    });
  });

interface Replica {
  readonly port: number;
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
}

async function startReplica(): Promise<Replica> {
  const port = await freePort();
  const child = spawn(process.execPath, [...SERVICE_NODE_FLAGS, SERVER], {
    env: {
      PATH: process.env.PATH ?? '',
      HOST: '127.0.0.1',
      PORT: String(port),
      WORKERS: String(WORKERS),
      LOG_LEVEL: 'warn',
      SHUTDOWN_GRACE_MS: '20000',
      GRPC_PORT: '0',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  for (let i = 0; i < 100; i++) {
    const ok = await fetch(`http://127.0.0.1:${port}/health/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return { port, child, exited };
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`replica on port ${port} did not become ready`);
}

/** nginx as deploy/nginx.conf configures it, on loopback, with every path in `dir`. */
export function nginxConfig(dir: string, listen: number, upstreams: readonly number[]): string {
  return `daemon off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  upstream convsvc {
${upstreams.map((p) => `    server 127.0.0.1:${p} max_fails=1 fail_timeout=2s;`).join('\n')}
    keepalive 32;
  }
  server {
    listen 127.0.0.1:${listen};
    client_max_body_size 64m;
    client_body_buffer_size 1m;
    location / {
      proxy_pass http://convsvc;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_next_upstream error timeout http_502 http_503 non_idempotent;
      proxy_next_upstream_tries 3;
    }
  }
}
`;
}

/** One conv2d over the v2 binary extension: 1x16x32x32 input, 16 3x3 filters, padding 1. */
function binaryRequest(): { body: Buffer; headerLength: number } {
  const input = Float32Array.from({ length: 16 * 32 * 32 }, (_, i) => Math.sin(i));
  const weight = Float32Array.from({ length: 16 * 16 * 9 }, (_, i) => Math.cos(i) / 16);
  const header = Buffer.from(
    JSON.stringify({
      parameters: { padding_h: 1, padding_w: 1, binary_data_output: true },
      inputs: [
        { name: 'input', shape: [1, 16, 32, 32], datatype: 'FP32', parameters: { binary_data_size: input.byteLength } },
        {
          name: 'weight',
          shape: [16, 16, 3, 3],
          datatype: 'FP32',
          parameters: { binary_data_size: weight.byteLength },
        },
      ],
    }),
  );
  return {
    body: Buffer.concat([header, Buffer.from(input.buffer), Buffer.from(weight.buffer)]),
    headerLength: header.length,
  };
}

async function main(): Promise<number> {
  const missing = requirements();
  if (missing.length > 0) {
    process.stderr.write(`scale-out needs:\n  ${missing.join('\n  ')}\n`);
    return 2;
  }
  const dir = mkdtempSync(join(tmpdir(), 'convsvc-scale-out-'));
  // Started as root, nginx's workers run as an unprivileged user that must reach its temp paths.
  chmodSync(dir, 0o755);
  const replicas: Replica[] = [];
  let nginx: ChildProcess | undefined;
  try {
    for (let i = 0; i < REPLICAS; i++) replicas.push(await startReplica());
    const port = await freePort();
    writeFileSync(
      join(dir, 'nginx.conf'),
      nginxConfig(
        dir,
        port,
        replicas.map((r) => r.port),
      ),
    );
    nginx = spawn('nginx', ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log')], {
      stdio: 'inherit',
    });
    const url = `http://127.0.0.1:${port}`;
    for (
      let i = 0;
      i < 50 &&
      !(await fetch(`${url}/health/live`).then(
        (r) => r.ok,
        () => false,
      ));
      i++
    )
      await new Promise((r) => setTimeout(r, 100));

    const { body, headerLength } = binaryRequest();
    process.stdout.write(
      `${REPLICAS} replicas (WORKERS=${WORKERS} each) behind nginx; ${CONNECTIONS} connections for ${SECONDS} s; SIGTERM to one replica at ${SECONDS / 2} s\n`,
    );
    const victim = replicas[0];
    const stopper = setTimeout(() => victim.child.kill('SIGTERM'), (SECONDS / 2) * 1000);
    const result = await autocannon({
      url: `${url}/v2/models/conv2d/infer`,
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(headerLength) },
      body,
      connections: CONNECTIONS,
      duration: SECONDS,
    });
    clearTimeout(stopper);
    const victimExit = await victim.exited;
    const failed = result.non2xx + result.errors + result.timeouts;
    const lines = [
      `requests:         ${result.requests.total} (${result['2xx']} 2xx)`,
      `throughput:       ${result.requests.average.toFixed(0)} requests/s`,
      `latency:          p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms`,
      `failed:           ${failed} (non-2xx ${result.non2xx}, errors ${result.errors}, timeouts ${result.timeouts})`,
      `stopped replica:  exit code ${victimExit}`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    return failed === 0 && victimExit === 0 && result.requests.total > 0 ? 0 : 1;
  } finally {
    nginx?.kill('SIGQUIT');
    for (const r of replicas) r.child.kill('SIGTERM');
    await Promise.all(replicas.map((r) => r.exited));
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) process.exitCode = await main();
