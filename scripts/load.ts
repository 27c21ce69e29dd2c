/**
 * `npm run load [-- --duration 30]`: overloads a real server process on 127.0.0.1 with autocannon —
 * 64 connections of large base64 requests plus a mix of small JSON ones — while probing
 * /health/live. Prints admitted throughput, latency, the count of each status, the liveness
 * latency and the server's peak RSS. Exits 1 on any status outside {200, 503}, on connection
 * errors or timeouts, on peak RSS above the memory model's bound, or on liveness slower than
 * 100 ms (p99).
 */
import autocannon from 'autocannon';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { SERVICE_NODE_FLAGS } from '../src/service-node-flags.js';
import { rssBound } from './load/memory-model.js';

type Result = Awaited<ReturnType<typeof autocannon>>;
const MiB = 2 ** 20;
const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '30' },
    workers: { type: 'string', default: String(Math.min(2, availableParallelism())) },
    'max-queue': { type: 'string', default: '16' },
    'max-body-mib': { type: 'string', default: '8' },
    connections: { type: 'string', default: '64' },
  },
});
const duration = Number(values.duration);
const workers = Number(values.workers);
const maxQueue = Number(values['max-queue']);
const maxBodyBytes = Number(values['max-body-mib']) * MiB;

/** A large request: a 1-M-element float32 input (5.3 MB of base64) -> a 1-M-element output. */
function largeBody(): string {
  const input = new Float32Array(16 * 256 * 256).map((_, i) => (i % 97) / 97);
  const weight = new Float32Array(16 * 16 * 9).map((_, i) => (i % 7) / 7 - 0.5);
  const b64 = (a: Float32Array) => Buffer.from(a.buffer).toString('base64');
  return JSON.stringify({ input: { shape: [1, 16, 256, 256], b64: b64(input) }, weight: { shape: [16, 16, 3, 3], b64: b64(weight) }, padding: 1 });
}
/** A conv small enough to run on the main thread (INLINE_MAX_MACS), so overload reaches that path too. */
const smallBody = JSON.stringify({
  input: { shape: [1, 4, 8, 8], data: Array.from({ length: 256 }, (_, i) => (i % 13) / 10) },
  weight: { shape: [4, 4, 3, 3], data: Array.from({ length: 144 }, (_, i) => (i % 5) / 10 - 0.2) },
  padding: 1,
});

/** The server's error and fatal log lines, shown when it misbehaves. */
const errorLines: string[] = [];

async function startServer(): Promise<{ url: string; pid: number; stop: () => Promise<number | null> }> {
  const entry = fileURLToPath(new URL('../src/server.js', import.meta.url));
  const child = spawn(process.execPath, [...SERVICE_NODE_FLAGS, entry], {
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: '0', WORKERS: String(workers), MAX_QUEUE: String(maxQueue), MAX_BODY_BYTES: String(maxBodyBytes), LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  // Interrupted or timed out, this script takes its server with it rather than leave it running.
  const killServer = () => child.kill('SIGKILL');
  process.once('exit', killServer);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));
  const url = await new Promise<string>((resolve, reject) => {
    let buffered = '';
    child.stdout!.on('data', (d: Buffer) => {
      buffered = (buffered + d.toString()).slice(-4096);
      for (const line of d.toString().split('\n')) if (/"level":(50|60)/.test(line)) errorLines.push(line.slice(0, 500));
      const m = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(buffered);
      if (m) resolve(m[1]);
    });
    void exited.then((code) => reject(new Error(`server exited (${code}) before listening`)));
  });
  return { url, pid: child.pid!, stop: async () => (child.kill('SIGTERM'), exited) };
}

/** Peak RSS of a process so far (Linux: VmHWM), in bytes. */
function peakRss(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error('no VmHWM in /proc: peak RSS needs Linux');
  return Number(m[1]) * 1024;
}

/** Probes /health/live from a thread of its own (scripts/load/liveness-probe.ts) until stopped. */
function probeLiveness(url: string): { stop: () => Promise<number[]> } {
  const worker = new Worker(new URL('./load/liveness-probe.js', import.meta.url), { workerData: { url } });
  const latencies = new Promise<number[]>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  return { stop: async () => (worker.postMessage('stop'), await latencies) };
}

const percentile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];

function statuses(...results: Result[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of results) for (const [code, { count }] of Object.entries(r.statusCodeStats)) out[code] = (out[code] ?? 0) + count;
  return out;
}

const server = await startServer();
const idleRss = peakRss(server.pid);
const probe = probeLiveness(server.url);
const common = { method: 'POST', headers: { 'content-type': 'application/json' }, duration, timeout: 60 };
const [large, small] = await Promise.all([
  autocannon({ ...common, url: `${server.url}/v1/conv2d/forward`, connections: Number(values.connections), body: largeBody() }),
  autocannon({ ...common, url: `${server.url}/v1/conv-transpose2d/forward`, connections: 8, body: smallBody }),
]);
const live = await probe.stop();
// The server's own view of its event loop (prom-client): a stall shows as a high max, a busy
// loop as a high p99.
const lag = await fetch(`${server.url}/metrics`).then((r) => r.text());
const lagOf = (name: string) => Number(new RegExp(`^convsvc_nodejs_eventloop_lag_${name}_seconds (\\S+)`, 'm').exec(lag)?.[1] ?? NaN) * 1000;
const peak = peakRss(server.pid);
const exitCode = await server.stop();

const counts = statuses(large, small);
const bound = rssBound(workers, maxQueue, maxBodyBytes);
const fmt = (r: Result) => `p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms, max ${r.latency.max} ms`;
console.log(`load: ${duration} s, WORKERS=${workers} MAX_QUEUE=${maxQueue} MAX_BODY_BYTES=${maxBodyBytes / MiB} MiB, server ${server.url}`);
console.log(`  large (conv2d 1x16x256x256, base64, ${values.connections} connections): ${large.requests.total} answers, admitted ${((large.statusCodeStats['200']?.count ?? 0) / duration).toFixed(1)}/s; latency ${fmt(large)}`);
console.log(`  small (conv-transpose2d forward run inline, JSON, 8 connections): ${small.requests.total} answers, admitted ${((small.statusCodeStats['200']?.count ?? 0) / duration).toFixed(1)}/s; latency ${fmt(small)}`);
console.log(`  statuses: ${JSON.stringify(counts)}; connection errors ${large.errors + small.errors}, timeouts ${large.timeouts + small.timeouts}`);
console.log(`  /health/live under load: ${live.length} probes, p50 ${percentile(live, 50).toFixed(1)} ms, p99 ${percentile(live, 99).toFixed(1)} ms, max ${Math.max(...live).toFixed(1)} ms`);
console.log(`  server event loop lag (since start): p50 ${lagOf('p50').toFixed(1)} ms, p99 ${lagOf('p99').toFixed(1)} ms, max ${lagOf('max').toFixed(1)} ms`);
console.log(`  server RSS: idle ${(idleRss / MiB).toFixed(0)} MiB, peak ${(peak / MiB).toFixed(0)} MiB, bound ${(bound / MiB).toFixed(0)} MiB (memory model); exit code on SIGTERM ${exitCode}`);

const failures: string[] = [];
const unexpected = Object.keys(counts).filter((c) => c !== '200' && c !== '503');
if (unexpected.length > 0) failures.push(`statuses outside {200, 503}: ${unexpected.join(', ')}`);
if (large.errors + small.errors + large.timeouts + small.timeouts > 0) failures.push('connection errors or timeouts');
if ((counts['200'] ?? 0) === 0) failures.push('nothing was admitted');
if (peak > bound) failures.push(`peak RSS ${(peak / MiB).toFixed(0)} MiB above the bound ${(bound / MiB).toFixed(0)} MiB`);
if (percentile(live, 99) > 100) failures.push(`/health/live p99 ${percentile(live, 99).toFixed(1)} ms above 100 ms`);
if (exitCode !== 0) failures.push(`the server exited ${exitCode} on SIGTERM`);
if (errorLines.length > 0) console.error(`  server errors (${errorLines.length}, first 5):\n    ${errorLines.slice(0, 5).join('\n    ')}`);
if (failures.length > 0) {
  console.error(`FAILED: ${failures.join('; ')}`);
  process.exit(1);
}
console.log('  ok');
