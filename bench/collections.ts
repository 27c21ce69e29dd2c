/**
 * `npm run bench:collections`: what the runtime V8 flag of src/service-node-flags.ts buys, side
 * by side in one run. A fresh service (one process, 2 workers) with the flag (as it starts) and
 * one without it (`--no-external-memory-accounted-in-global-limit` on its command line, which
 * wins), in interleaved rounds (BENCH_ROUNDS, default 2): the DCGAN forward over /v2 binary one
 * request at a time (median of 30 after 20), then over /v1 base64 at 8 connections (wrk, or
 * autocannon where wrk is missing; BENCH_SECONDS, default 8, after 2 s). Per request: the CPU of
 * the main thread, of V8's helper threads (concurrent marking and sweeping: a collection's cost
 * beyond its pauses) and of the rest of the process (its kernel threads above all), from /proc;
 * the peak RSS of the run.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { Agent } from 'node:http';
import { HEADER_LENGTH } from '../client/index.js';
import { BINARY_CONTENT_TYPE } from '../src/v2/binary.js';
import {
  autocannon,
  cpuMsOfStat,
  forwardBody,
  hasWrk,
  memory,
  post,
  processCpuMs,
  type Service,
  startService,
  stop,
  v2BinaryBody,
  wrkLoad,
} from './services.js';
import { SHAPES } from './shapes.js';
import { median, table } from './timing.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const [DCGAN] = SHAPES;
const FLAG_OFF = '--no-external-memory-accounted-in-global-limit';

/**
 * CPU ms so far of the process's live threads by name (Linux names V8's helpers node-V8Worker),
 * and of the whole process under TOTAL: threads that have ended count there only.
 */
function threadCpuMs(pid: number): Map<string, number> {
  const byName = new Map<string, number>([[TOTAL, processCpuMs(pid)]]);
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    const stat = readFileSync(`/proc/${pid}/task/${task}/stat`, 'utf8');
    const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    byName.set(name, (byName.get(name) ?? 0) + cpuMsOfStat(stat));
  }
  return byName;
}
const TOTAL = Symbol('the whole process').toString();

interface Cpu {
  main: number;
  helpers: number;
  /** The rest: kernel threads (started or ended during the run included), libuv, OpenBLAS. */
  kernels: number;
}

/** CPU ms per request of each kind of thread while `run` answers `count()` requests. */
async function cpuPerRequest(s: Service, run: () => Promise<number>): Promise<Cpu> {
  const pid = s.child.pid!;
  const before = threadCpuMs(pid);
  const count = await run();
  const after = threadCpuMs(pid);
  const used = (name: string) => ((after.get(name) ?? 0) - (before.get(name) ?? 0)) / count;
  const [main, helpers] = [used('node-MainThread'), used('node-V8Worker')];
  return { main, helpers, kernels: used(TOTAL) - main - helpers };
}

interface Round {
  flag: boolean;
  oneMs: number;
  one: Cpu;
  rps: number;
  p99: number;
  loaded: Cpu;
  peakMb: number;
}

async function round(flag: boolean): Promise<Round> {
  const s = await startService({ HTTP_PROCESSES: '1', WORKERS: '2' }, flag ? [] : [FLAG_OFF]);
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const binary = v2BinaryBody(DCGAN);
    const send = () =>
      post(s.url, binary.body, agent, '/v2/models/conv_transpose2d/infer', {
        'content-type': BINARY_CONTENT_TYPE,
        [HEADER_LENGTH]: String(binary.headerLength),
      });
    for (let i = 0; i < 20; i++) await send();
    const times: number[] = [];
    const one = await cpuPerRequest(s, async () => {
      for (let i = 0; i < 30; i++) times.push(await send());
      return times.length;
    });
    const url = `${s.url}/v1/conv-transpose2d/forward`;
    const body = forwardBody(DCGAN);
    const load = async (seconds: number) => {
      if (hasWrk()) return wrkLoad(url, body, 8, seconds);
      const r = await autocannon({
        url,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
        connections: 8,
        duration: seconds,
      });
      return { rps: r.requests.average, p99: r.latency.p99, failed: r.non2xx + r.errors + r.timeouts };
    };
    await load(2);
    let loaded = { rps: 0, p99: 0, failed: 0 };
    const loadedCpu = await cpuPerRequest(s, async () => {
      loaded = await load(SECONDS);
      return loaded.rps * SECONDS;
    });
    if (loaded.failed > 0) throw new Error(`${loaded.failed} requests failed`);
    return {
      flag,
      oneMs: median(times),
      one,
      rps: loaded.rps,
      p99: loaded.p99,
      loaded: loadedCpu,
      peakMb: memory(s).peak,
    };
  } finally {
    agent.destroy();
    await stop(s);
  }
}

const rounds: Round[] = [];
for (let i = 0; i < ROUNDS; i++) for (const flag of [true, false]) rounds.push(await round(flag));

const f = (x: number, digits = 1) => x.toFixed(digits);
console.log(
  `\nDCGAN forward, a fresh service of 2 workers (Node ${process.version}, V8 ${process.versions.v8}), with and without --external-memory-accounted-in-global-limit, ${ROUNDS} interleaved rounds\n`,
);
console.log(
  table(
    [
      'flag',
      '/v2 one at a time, median ms',
      'main / V8 helpers / kernels, ms CPU a request',
      '/v1 base64, 8 conns, req/s',
      'p99 ms',
      'main / V8 helpers / kernels, loaded',
      'peak RSS MB',
    ],
    rounds.map((r) => [
      r.flag ? 'on' : 'off',
      f(r.oneMs),
      `${f(r.one.main)} / ${f(r.one.helpers)} / ${f(r.one.kernels)}`,
      f(r.rps),
      f(r.p99, 0),
      `${f(r.loaded.main)} / ${f(r.loaded.helpers)} / ${f(r.loaded.kernels)}`,
      f(r.peakMb, 0),
    ]),
  ),
);
const ratio = (pick: (r: Round) => number) => {
  const of = (flag: boolean) => median(rounds.filter((r) => r.flag === flag).map(pick));
  return of(true) / of(false);
};
console.log(
  `with the flag: one at a time ${f(
    ratio((r) => r.oneMs),
    2,
  )}x the time, 8 connections ${f(
    ratio((r) => r.rps),
    2,
  )}x the throughput, peak RSS ${f(
    ratio((r) => r.peakMb),
    2,
  )}x`,
);
