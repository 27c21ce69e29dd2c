/**
 * `npm run bench:processes`: HTTP_PROCESSES, side by side in one run, same bodies, same client
 * on the same cores, each figure the median of interleaved rounds
 * so a change in a shared machine's load falls on every service alike:
 * - the small op (N=1, 16->16, 8x8, k3, base64) at 16 connections: convsvc with a server process
 *   per core (the default), with one, and the Python peer (bench/python-peer, 2 uvicorn workers);
 * - the DCGAN forward (base64, 7 MB in, 8.4 MB out) at 8 connections, the same three;
 * - kernel threads per process: with a process per core, one DCGAN request at a time (an idle
 *   host) and 8 at once (a loaded one), WORKERS=1 against WORKERS=<cores>.
 * The client is wrk (Debian: wrk) where installed, else autocannon (BENCH_CLIENT=autocannon forces
 * it); the Python peer runs uvicorn on httptools and uvloop where installed (Debian:
 * python3-httptools python3-uvloop, uvicorn's "standard" extras, as a team would deploy it).
 * BENCH_SECONDS (default 5) is each timed run, BENCH_ROUNDS (default 3) the rounds.
 */
import { availableParallelism } from 'node:os';
import {
  autocannon,
  forwardBody,
  hasWrk,
  type Load,
  memoryOfTree,
  type Service,
  sequentialMedianMs,
  startPeer,
  startService,
  stop,
  wrkLoad,
} from './services.js';
import { SHAPES } from './shapes.js';
import { median, table } from './timing.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CORES = availableParallelism();
const [DCGAN, , , SMALL] = SHAPES;

interface Named {
  readonly name: string;
  readonly service: Service;
}

const WRK = process.env.BENCH_CLIENT !== 'autocannon' && hasWrk();

/** One load run: wrk where it is installed (a lean native client, as the targets were set with), else autocannon. */
async function load(s: Service, body: string | Buffer, connections: number, duration: number): Promise<Load> {
  const url = `${s.url}/v1/conv-transpose2d/forward`;
  if (WRK) return wrkLoad(url, body, connections, duration);
  const r = await autocannon({
    url,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
    connections,
    duration,
  });
  return { rps: r.requests.average, p99: r.latency.p99, failed: r.non2xx + r.errors + r.timeouts };
}

/** Each service's requests/s and p99 at `connections`, median of ROUNDS interleaved runs after a warm-up each. */
async function rounds(services: Named[], body: string | Buffer, connections: number): Promise<Map<string, Load>> {
  for (const s of services) await load(s.service, body, connections, 2);
  const runs = new Map<string, Load[]>(services.map((s) => [s.name, []]));
  for (let r = 0; r < ROUNDS; r++)
    for (const s of services) runs.get(s.name)!.push(await load(s.service, body, connections, SECONDS));
  return new Map(
    [...runs].map(([name, results]) => [
      name,
      {
        rps: median(results.map((x) => x.rps)),
        p99: median(results.map((x) => x.p99)),
        failed: results.reduce((n, x) => n + x.failed, 0),
      },
    ]),
  );
}

function report(title: string, services: Named[], figures: Map<string, Load>, against: string): void {
  const base = figures.get(against)?.rps ?? NaN;
  console.log(`\n${title}\n`);
  console.log(
    table(
      ['service', 'requests/s', 'p99 ms', 'failed', `vs ${against}`],
      services.map(({ name }) => {
        const f = figures.get(name)!;
        return [name, f.rps.toFixed(0), f.p99.toFixed(1), String(f.failed), `${(f.rps / base).toFixed(2)}x`];
      }),
    ),
  );
}

async function main(): Promise<void> {
  const small = forwardBody(SMALL);
  const dcgan = Buffer.from(forwardBody(DCGAN));
  const peer = await startPeer();
  const services: Named[] = [
    { name: `convsvc HTTP_PROCESSES=${CORES}`, service: await startService({ HTTP_PROCESSES: String(CORES) }) },
    { name: 'convsvc HTTP_PROCESSES=1', service: await startService({ HTTP_PROCESSES: '1' }) },
  ];
  if (typeof peer === 'string') console.log(`Python peer left out: ${peer}`);
  else services.push({ name: 'Python peer', service: peer });
  console.log(
    `${CORES} cores, Node ${process.version}; ${ROUNDS} interleaved rounds of ${SECONDS} s per service and figure, after 2 s of warm-up each; client: ${WRK ? 'wrk, one thread' : 'autocannon, one Node process'}, on the same cores`,
  );
  try {
    report('Small op, 16 connections', services, await rounds(services, small, 16), 'Python peer');
    report('DCGAN forward, 8 connections', services, await rounds(services, dcgan, 8), 'Python peer');
  } finally {
    for (const s of services) await stop(s.service);
  }

  const threads: { workers: number; service: Service }[] = [];
  for (const workers of [1, CORES])
    threads.push({ workers, service: await startService({ HTTP_PROCESSES: String(CORES), WORKERS: String(workers) }) });
  try {
    const rows: string[][] = [];
    for (const { workers, service } of threads) {
      // One request at a time: an otherwise idle host.
      const one = await sequentialMedianMs(service, dcgan, 20, 30);
      const loaded = (await rounds([{ name: 'x', service }], dcgan, 8)).get('x')!;
      rows.push([
        `HTTP_PROCESSES=${CORES} WORKERS=${workers}`,
        String(CORES * workers),
        one.toFixed(1),
        loaded.rps.toFixed(1),
        loaded.p99.toFixed(0),
        memoryOfTree(service).rss.toFixed(0),
      ]);
    }
    console.log('\nKernel threads per server process: DCGAN forward alone (median of 30) and at 8 connections\n');
    console.log(
      table(['service', 'kernel threads', 'one at a time ms', '8 conns req/s', '8 conns p99 ms', 'RSS after MB'], rows),
    );
  } finally {
    for (const t of threads) await stop(t.service);
  }
}

await main();
