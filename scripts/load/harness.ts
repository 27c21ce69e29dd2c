/** What both scenarios of `npm run load` share: the server process, its memory, the liveness probe. */

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type autocannon from 'autocannon';
import { SERVICE_NODE_FLAGS } from '../../src/service-node-flags.js';
import { treeMemory } from '../process-tree.js';

type Result = Awaited<ReturnType<typeof autocannon>>;

/** The server's error and fatal log lines, shown when it misbehaves. */
export const errorLines: string[] = [];

export async function startServer(
  workers: number,
  env: Record<string, string>,
): Promise<{ url: string; pid: number; alive: () => boolean; stop: () => Promise<number | null> }> {
  const entry = fileURLToPath(new URL('../../src/server.js', import.meta.url));
  const child = spawn(process.execPath, [...SERVICE_NODE_FLAGS, entry], {
    env: {
      PATH: process.env.PATH ?? '',
      HOST: '127.0.0.1',
      PORT: '0',
      HTTP_PROCESSES: '1',
      WORKERS: String(workers),
      GRPC_PORT: '0',
      LOG_LEVEL: 'info',
      ...env,
    },
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
      for (const line of d.toString().split('\n'))
        if (/"level":(50|60)/.test(line)) errorLines.push(line.slice(0, 500));
      const m = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(buffered);
      if (m) resolve(m[1]);
    });
    void exited.then((code) => reject(new Error(`server exited (${code}) before listening`)));
  });
  // With several server processes the first one listening is not the service: wait until all are.
  for (
    let tries = 0;
    !(await fetch(`${url}/health/ready`).then(
      (r) => r.ok,
      () => false,
    ));
    tries++
  ) {
    if (tries > 200) throw new Error('the server did not become ready');
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url,
    pid: child.pid!,
    alive: () => child.exitCode === null && child.signalCode === null,
    stop: async () => {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

/** Peak RSS so far (Linux: VmHWM), in bytes, of a process and its server processes (summed: a bound of their joint peak). */
export function peakRss(pid: number): number {
  const { peaks } = treeMemory(pid);
  if (peaks === 0) throw new Error('no VmHWM in /proc: peak RSS needs Linux');
  return peaks;
}

/** Probes /health/live from a thread of its own (scripts/load/liveness-probe.ts) until stopped. */
export function probeLiveness(url: string): { stop: () => Promise<number[]> } {
  const worker = new Worker(new URL('./liveness-probe.js', import.meta.url), { workerData: { url } });
  const latencies = new Promise<number[]>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  return {
    stop: async () => {
      worker.postMessage('stop');
      return latencies;
    },
  };
}

export const percentile = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];

export function statuses(...results: Result[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of results)
    for (const [code, { count }] of Object.entries(r.statusCodeStats)) out[code] = (out[code] ?? 0) + count;
  return out;
}
