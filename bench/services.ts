/**
 * What the HTTP benchmarks share: starting and stopping the built service and the Python peer,
 * the bodies they are sent, and the clients that send them.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { toV2Request } from '../client/index.js';
import { treeMemory } from '../scripts/process-tree.js';
import { INFERENCE_SERVICE, serviceDefinition } from '../src/grpc/proto.js';
import { SERVICE_NODE_FLAGS } from '../src/service-node-flags.js';
import { type BenchShape, inputLength, randomArray, weightLength } from './shapes.js';
import { median } from './timing.js';

export const SERVER = resolve(process.env.BENCH_SERVER ?? 'dist/src/server.js');

/** The part of autocannon's API used here, typed locally (the package ships no types). */
export interface LoadResult {
  requests: { average: number; total: number };
  latency: { p99: number };
  non2xx: number;
  errors: number;
  timeouts: number;
}
/** A run lasts `duration` seconds, or until `amount` requests were answered. */
type Autocannon = (
  options: {
    url: string;
    method: string;
    headers: Record<string, string>;
    body: string | Buffer;
    connections: number;
  } & ({ duration: number } | { amount: number }),
) => Promise<LoadResult>;
export const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

export const freePort = () =>
  new Promise<number>((done) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => done(port));
    });
  });

export interface Service {
  readonly url: string;
  readonly child: ChildProcess;
}

/** The built server as deployed (its Node flags), on a free port; `env` adds to or overrides the bench's settings. */
export async function startService(env: Record<string, string>, nodeArgs: readonly string[] = []): Promise<Service> {
  const port = await freePort();
  const child = spawn(process.execPath, [...SERVICE_NODE_FLAGS, ...nodeArgs, SERVER], {
    env: {
      PATH: process.env.PATH ?? '',
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      MAX_QUEUE: '256',
      GRPC_PORT: '0',
      ...(process.env.GEMM_VARIANT ? { GEMM_VARIANT: process.env.GEMM_VARIANT } : {}),
      ...env,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return ready(child, `http://127.0.0.1:${port}`);
}

export async function ready(child: ChildProcess, url: string): Promise<Service> {
  for (let i = 0; i < 200; i++) {
    const ok = await fetch(`${url}/health/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return { url, child };
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGTERM');
  throw new Error(`the service at ${url} did not become ready`);
}

export async function stop(s: Service): Promise<void> {
  const exited = new Promise((r) => s.child.once('exit', r));
  s.child.kill('SIGTERM');
  await exited;
}

/** Clock ticks a second in /proc's CPU times (Linux's USER_HZ). */
const TICKS_PER_SECOND = 100;

/** The CPU time, in ms, a /proc stat file's text accounts (utime + stime): a process's (its threads', ended ones' included) or one thread's. */
export function cpuMsOfStat(stat: string): number {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
}

/** The CPU time, in ms, a process (its threads included) has used. */
export const processCpuMs = (pid: number): number => cpuMsOfStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));

/** The CPU time, in ms, this process's children have used once ended (a spawnSync's client runs): /proc's cutime + cstime. */
export function endedChildrenCpuMs(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[13]) + Number(fields[14])) * 1000) / TICKS_PER_SECOND;
}

/** Resident and peak resident set of the service process (threads included), in MB. */
export function memory(s: Service): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${s.child.pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN);
  return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
}

/**
 * One request over a keep-alive connection of node:http, the body encoded once beforehand (as
 * autocannon does): a lean client, so the time measured is the service's. (fetch spends ~10 ms of
 * its own per DCGAN request on this machine, wrapping 7 MB in web streams both ways; its median is
 * printed as well.)
 */
export function post(
  url: string,
  body: Uint8Array,
  agent: Agent,
  path = '/v1/conv-transpose2d/forward',
  headers: Record<string, string> = { 'content-type': 'application/json' },
): Promise<number> {
  const t0 = performance.now();
  return new Promise((done, fail) => {
    const req = httpRequest(
      `${url}${path}`,
      { method: 'POST', agent, headers: { ...headers, 'content-length': body.length } },
      (res) => {
        res.on('data', () => {});
        res.on('end', () =>
          res.statusCode === 200 ? done(performance.now() - t0) : fail(new Error(`status ${res.statusCode}`)),
        );
      },
    );
    req.on('error', fail);
    req.end(body);
  });
}

/** The median time of `count` requests sent one after another over one keep-alive connection, after `warmup` of them. */
export async function sequentialMedianMs(s: Service, body: Buffer, warmup: number, count: number): Promise<number> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    for (let i = 0; i < warmup; i++) await post(s.url, body, agent);
    const times: number[] = [];
    for (let i = 0; i < count; i++) times.push(await post(s.url, body, agent));
    return median(times);
  } finally {
    agent.destroy();
  }
}

const PYTHON = '/usr/bin/python3';

/** The Python peer on 2 uvicorn workers, or null (with why) where its packages are missing. */
export async function startPeer(): Promise<Service | string> {
  const probe = spawn(PYTHON, ['-c', 'import fastapi, uvicorn, torch'], { stdio: 'ignore' });
  const ok = await new Promise<boolean>((done) => {
    probe.once('error', () => done(false));
    probe.once('exit', (code) => done(code === 0));
  });
  if (!ok)
    return `${PYTHON} lacks fastapi, uvicorn or torch (Debian: python3-fastapi python3-uvicorn python3-httptools python3-uvloop python3-torch libopenblas0-pthread)`;
  const port = await freePort();
  const child = spawn(
    PYTHON,
    [
      '-m',
      'uvicorn',
      'app:app',
      '--workers',
      '2',
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--log-level',
      'warning',
    ],
    {
      cwd: resolve('bench', 'python-peer'),
      env: { PATH: process.env.PATH ?? '', OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1', MKL_NUM_THREADS: '1' },
      // uvicorn prints a traceback for every request a load run cuts off as it ends.
      stdio: 'ignore',
    },
  );
  return ready(child, `http://127.0.0.1:${port}`);
}

export const b64 = (a: Float32Array): string => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');

export function forwardBody({ geometry: g }: BenchShape): string {
  const tensor = (shape: number[], length: number, seed: number) => ({
    shape,
    dtype: 'float32',
    b64: b64(randomArray(Float32Array, length, seed)),
  });
  return JSON.stringify({
    input: tensor([g.batch, g.inChannels, g.inH, g.inW], inputLength(g), 1),
    weight: tensor([g.inChannels, g.outChannels, g.kH, g.kW], weightLength(g), 2),
    bias: tensor([g.outChannels], g.outChannels, 3),
    stride: g.sH,
    padding: g.pH,
  });
}

/** The same forward as an Open Inference Protocol request with every tensor in the binary section. */
export function v2BinaryBody({ geometry: g }: BenchShape): { body: Uint8Array; headerLength: number } {
  const tensor = (shape: number[], length: number, seed: number) => ({
    shape,
    values: randomArray(Float32Array, length, seed),
  });
  return toV2Request(
    {
      input: tensor([g.batch, g.inChannels, g.inH, g.inW], inputLength(g), 1),
      weight: tensor([g.inChannels, g.outChannels, g.kH, g.kW], weightLength(g), 2),
      bias: tensor([g.outChannels], g.outChannels, 3),
    },
    { stride_h: g.sH, stride_w: g.sW, padding_h: g.pH, padding_w: g.pW },
  );
}

/** The forward of `shape` as an encoded ModelInferRequest, its tensors in raw_input_contents (what gRPC clients send). */
export function grpcForwardMessage({ geometry: g }: BenchShape): Buffer {
  const raw = (length: number, seed: number) => {
    const a = randomArray(Float32Array, length, seed);
    return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
  };
  const int64 = (v: number) => ({ int64_param: v });
  return serviceDefinition(INFERENCE_SERVICE).ModelInfer.requestSerialize({
    model_name: 'conv_transpose2d',
    parameters: { stride_h: int64(g.sH), stride_w: int64(g.sW), padding_h: int64(g.pH), padding_w: int64(g.pW) },
    inputs: [
      { name: 'input', datatype: 'FP32', shape: [g.batch, g.inChannels, g.inH, g.inW] },
      { name: 'weight', datatype: 'FP32', shape: [g.inChannels, g.outChannels, g.kH, g.kW] },
      { name: 'bias', datatype: 'FP32', shape: [g.outChannels] },
    ],
    raw_input_contents: [raw(inputLength(g), 1), raw(weightLength(g), 2), raw(g.outChannels, 3)],
  });
}

/** A gRPC message as its HTTP/2 body carries it: uncompressed, after its 4-byte length. */
export function grpcFramed(message: Buffer): Buffer {
  const out = Buffer.alloc(5 + message.length);
  out.writeUInt32BE(message.length, 1);
  message.copy(out, 5);
  return out;
}

/** The resident set of the service and its server processes (a primary's children), in MB. */
export function memoryOfTree(s: Service): { rss: number } {
  return { rss: treeMemory(s.child.pid!).rss / 2 ** 20 };
}

/** A load run's outcome, whichever client ran it. */
export interface Load {
  readonly rps: number;
  readonly p99: number;
  /** Answers other than 2xx, connection errors and timeouts. */
  readonly failed: number;
}

/** Whether wrk (Debian: wrk) is on PATH: a C client, lighter than autocannon on the cores it shares with the service. */
export const hasWrk = (): boolean => spawnSync('wrk', ['--version'], { stdio: 'ignore' }).error === undefined;

/** POSTs `body` to `url` for `seconds` over `connections` with wrk (one thread), the body read by its Lua script. */
export async function wrkLoad(url: string, body: string | Buffer, connections: number, seconds: number): Promise<Load> {
  const dir = mkdtempSync(join(tmpdir(), 'wrk-'));
  try {
    writeFileSync(join(dir, 'body'), body);
    writeFileSync(
      join(dir, 'post.lua'),
      `local f = io.open(${JSON.stringify(join(dir, 'body'))}, "rb")\nwrk.method = "POST"\nwrk.body = f:read("*a")\nf:close()\nwrk.headers["Content-Type"] = "application/json"\n`,
    );
    const child = spawn(
      'wrk',
      ['-t1', `-c${connections}`, `-d${seconds}s`, '--latency', '--timeout', '30s', '-s', join(dir, 'post.lua'), url],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    await new Promise((r) => child.once('exit', r));
    const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN);
    const p99 = /\s99%\s+([\d.]+)(us|ms|s)/.exec(out);
    const p99Ms = p99 === null ? NaN : Number(p99[1]) * (p99[2] === 'us' ? 1e-3 : p99[2] === 's' ? 1e3 : 1);
    const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0);
    const errors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
    return { rps, p99: p99Ms, failed: non2xx + (errors ? errors.slice(1).reduce((n, x) => n + Number(x), 0) : 0) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Whether h2load (Debian: nghttp2-client) is on PATH: one C client for HTTP/1.1 and HTTP/2 alike. */
export const hasH2load = (): boolean => spawnSync('h2load', ['--version'], { stdio: 'ignore' }).error === undefined;

export interface H2loadRun {
  readonly rps: number;
  /** Mean time per request, ms. */
  readonly meanMs: number;
  /** Requests not answered 2xx, or not answered at all. */
  readonly failed: number;
  /** Bytes of answer data per request: a gRPC error is an HTTP 200 too, but without the tensors. */
  readonly answerBytes: number;
}

/**
 * POSTs `body` `requests` times with h2load: over HTTP/1.1 (`h1`) on `connections`, or over
 * HTTP/2 with `streams` requests open at once on each connection (gRPC's way: many calls on one
 * channel). One C client for REST and gRPC, so a comparison of the two weighs the service alone.
 */
export async function h2loadRun(
  url: string,
  body: string | Uint8Array,
  headers: Record<string, string>,
  opts: { readonly requests: number; readonly connections: number; readonly streams?: number; readonly h1?: boolean },
): Promise<H2loadRun> {
  const dir = mkdtempSync(join(tmpdir(), 'h2load-'));
  try {
    writeFileSync(join(dir, 'body'), body);
    const args = [
      ...(opts.h1 ? ['--h1'] : []),
      `-n${opts.requests}`,
      `-c${opts.connections}`,
      `-m${opts.streams ?? 1}`,
      '-d',
      join(dir, 'body'),
      ...Object.entries(headers).flatMap(([k, v]) => ['-H', `${k}: ${v}`]),
      url,
    ];
    const run = spawnSync('h2load', args, { encoding: 'utf8', maxBuffer: 2 ** 24 });
    const out = run.stdout ?? '';
    const rps = Number(/finished in [\d.]+\w+, ([\d.]+) req\/s/.exec(out)?.[1] ?? NaN);
    const mean = /time for request:\s+\S+\s+\S+\s+([\d.]+)(us|ms|s)/.exec(out);
    const meanMs = mean === null ? NaN : Number(mean[1]) * (mean[2] === 'us' ? 1e-3 : mean[2] === 's' ? 1e3 : 1);
    const ok = Number(/status codes: (\d+) 2xx/.exec(out)?.[1] ?? 0);
    const data = Number(/traffic: .*, \S+ \((\d+)\) data/.exec(out)?.[1] ?? 0);
    return { rps, meanMs, failed: opts.requests - ok, answerBytes: ok > 0 ? data / ok : 0 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
