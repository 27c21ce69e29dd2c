/**
 * `npm run bench:request-cpu`: the main thread's CPU time per small-op request (N=1, 16->16, 8x8,
 * k3, base64, run inline), read from the kernel's account of that one thread
 * (/proc/<pid>/task/<pid>/stat), so it does not depend on how busy a shared machine is. One server
 * process, 16 connections; BENCH_REQUESTS (default 40,000) after 10,000 of warm-up.
 * BENCH_CPU_PROF=<dir> also runs the server with --cpu-prof into that folder and prints the
 * functions with the most self time.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { autocannon, forwardBody, type Service, startService, stop } from './services.js';
import { SHAPES } from './shapes.js';
import { table } from './timing.js';

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 40_000);
const PROFILE_DIR = process.env.BENCH_CPU_PROF;
const [, , , SMALL] = SHAPES;
const TICKS_PER_SECOND = 100;

/** The main thread's user and system CPU seconds (its task has the process's pid). */
function mainThreadSeconds(pid: number): { user: number; system: number } {
  const stat = readFileSync(`/proc/${pid}/task/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { user: Number(fields[11]) / TICKS_PER_SECOND, system: Number(fields[12]) / TICKS_PER_SECOND };
}

const send = (s: Service, body: string, amount: number) =>
  autocannon({
    url: `${s.url}/v1/conv-transpose2d/forward`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
    connections: 16,
    amount,
  });

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

/** The functions with the most self time in a .cpuprofile, as shares of the samples. */
function topFunctions(file: string, count = 30): string[][] {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as { nodes: ProfileNode[]; samples: number[] };
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  for (const id of profile.samples) {
    const f = byId.get(id)!.callFrame;
    const where = f.url
      ? `${f.url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/dist\//, 'dist/')}:${f.lineNumber + 1}`
      : '';
    const key = `${f.functionName || '(anonymous)'} ${where}`.trim();
    self.set(key, (self.get(key) ?? 0) + 1);
  }
  const total = profile.samples.length;
  return [...self]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([name, n]) => [name, `${((100 * n) / total).toFixed(1)}%`]);
}

async function main(): Promise<void> {
  const body = forwardBody(SMALL);
  const env = { HTTP_PROCESSES: '1', WORKERS: '1' };
  const s = await startService(env, PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${resolve(PROFILE_DIR)}`] : []);
  try {
    await send(s, body, 10_000);
    const before = mainThreadSeconds(s.child.pid!);
    const started = performance.now();
    const result = await send(s, body, REQUESTS);
    const after = mainThreadSeconds(s.child.pid!);
    const wall = (performance.now() - started) / 1000;
    const perRequest = (seconds: number) => ((1e6 * seconds) / REQUESTS).toFixed(1);
    const user = after.user - before.user;
    const system = after.system - before.system;
    console.log(
      table(
        [
          'requests',
          'failed',
          'main-thread CPU µs per request',
          'of it user',
          'of it system (kernel)',
          'wall s',
          'requests/s',
        ],
        [
          [
            String(result.requests.total),
            String(result.non2xx + result.errors),
            perRequest(user + system),
            perRequest(user),
            perRequest(system),
            wall.toFixed(1),
            (REQUESTS / wall).toFixed(0),
          ],
        ],
      ),
    );
  } finally {
    await stop(s);
  }
  if (PROFILE_DIR) {
    // CPU.<date>.<time>.<pid>.<thread id>.<n>.cpuprofile: the main thread is thread 0.
    const newest = readdirSync(PROFILE_DIR)
      .filter((f) => /\.0\.\d+\.cpuprofile$/.test(f))
      .sort()
      .at(-1)!;
    console.log(`\nself time, main thread (${join(PROFILE_DIR, newest)}):\n`);
    console.log(table(['function', 'self'], topFunctions(join(PROFILE_DIR, newest))));
  }
}

await main();
