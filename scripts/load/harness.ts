/** What both scenarios of `npm run load` share: the server process, its memory, the liveness probe. */

import { Worker } from 'node:worker_threads';
import type autocannon from 'autocannon';
import { SERVICE_NODE_FLAGS } from '../../src/service-node-flags.js';
import { treeMemory } from '../process-tree.js';
import { type RunningServer, startServer as startServerProcess } from '../server-process.js';

type Result = Awaited<ReturnType<typeof autocannon>>;

/**
 * The built server as deployed (its Node flags), ready to serve with every process it runs; its
 * output is not kept line by line (a load run logs every request), its error lines are.
 */
export async function startServer(workers: number, env: Record<string, string>): Promise<RunningServer> {
  // Interrupted or timed out, the script ends by exit, which takes its server with it.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));
  return startServerProcess(
    { WORKERS: String(workers), ...env },
    { nodeArgs: SERVICE_NODE_FLAGS, waitReady: true, keepLogs: false, inheritStderr: true },
  );
}

/** Prints the server's first error lines, if it logged any. */
export function showServerErrors(server: RunningServer): void {
  const lines = server.errorLines;
  if (lines.length > 0)
    console.error(`  server errors (${lines.length}, first 5):\n    ${lines.slice(0, 5).join('\n    ')}`);
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

/** The head of a JSON op request of `length` bytes to `path`, with the load run's key, as raw sockets send it. */
export const requestHead = (path: string, length: number): string =>
  `POST ${path} HTTP/1.1\r\nHost: load\r\nContent-Type: application/json\r\nAuthorization: Bearer load-key\r\nContent-Length: ${length}\r\n\r\n`;
