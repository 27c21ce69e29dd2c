/**
 * `npm run bench:http`: the live service over loopback, base64 bodies, for the service targets of BENCHMARKS.md
 * targets. Starts the built server (BENCH_SERVER, default dist/src/server.js) with 1 and with 2
 * workers and measures, bounded in time:
 * - the small op (N=1, 16->16, 8x8, k3) with autocannon at 16 connections: requests/s, p99;
 * - the DCGAN forward, one keep-alive connection, sequential: median latency, 1 vs 2 workers,
 *   against the same split run in-process on the pool (and one part alone, warm);
 * - RSS: idle, and the peak growth of a warmed-up service over a run of DCGAN requests, against
 *   the request's tensors' bytes (input, weight, bias and output).
 * - side by side in the same run, same body, same client: DCGAN forward on 2 workers with the
 *   native GEMM, with GEMM_VARIANT=wasm, and the Python peer (bench/python-peer: FastAPI + uvicorn
 *   + PyTorch, 2 worker processes, 1 torch thread each), skipped with a line where the Debian
 *   packages it needs are missing.
 * - stored layers: the DCGAN forward over /v2 binary through a stored layer (the request carries
 *   its input only) against the same request carrying its weight and bias, same service, in
 *   interleaved rounds (target <= 0.7x); and /health/live's latency, polled every 10 ms, while a
 *   64 MiB layer (86 MiB of base64) loads (target: no answer later than 100 ms).
 *   BENCH_LAYERS_ONLY=1 runs these alone.
 * - gRPC against REST (grpcAgainstRest): the DCGAN forward as a gRPC ModelInfer against /v2
 *   binary, and the small op over gRPC at 16 concurrent calls against REST's; BENCH_GRPC_ONLY=1
 *   runs only this table, BENCH_H2LOAD_ONLY=1 too only its runs with h2load as the client of both.
 * GEMM_VARIANT, when set, is passed to the service for the main runs.
 * BENCH_SECONDS sets the autocannon duration (default 8) and BENCH_SMALL_WARMUP the load before it
 * (default 2 s), BENCH_DCGAN_REQUESTS the timed sequential run (default 30), BENCH_DCGAN_WARMUP the
 * requests before it (default 20), BENCH_SIDE_WARMUP the requests each service of the side-by-side
 * table gets before it is timed (default 100).
 */
import { writeFileSync } from 'node:fs';
import { Agent, get as httpGet } from 'node:http';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { credentials, type Client as GrpcClient, Metadata } from '@grpc/grpc-js';
import { HEADER_LENGTH, loadLayerBody, toV2Request } from '../client/index.js';
import { RawInferenceClient } from '../src/grpc/raw-client.js';
import { BINARY_CONTENT_TYPE } from '../src/v2/binary.js';
import { runTask } from '../workers/tasks.js';
import {
  autocannon,
  forwardBody,
  freePort,
  grpcForwardMessage,
  grpcFramed,
  type H2loadRun,
  h2loadRun,
  hasH2load,
  memory,
  post,
  processCpuMs,
  SERVER,
  type Service,
  startPeer,
  startService,
  stop,
  v2BinaryBody,
} from './services.js';
import { type BenchShape, inputLength, outputLength, randomArray, SHAPES, weightLength } from './shapes.js';
import { bestMs, median, table } from './timing.js';

/** One server process with `workers` kernel threads (bench/processes.ts measures several processes). */
const start = (workers: number, gemmVariant = process.env.GEMM_VARIANT): Promise<Service> =>
  startService({
    HTTP_PROCESSES: '1',
    WORKERS: String(workers),
    ...(gemmVariant ? { GEMM_VARIANT: gemmVariant } : {}),
  });

const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const DCGAN_REQUESTS = Number(process.env.BENCH_DCGAN_REQUESTS ?? 30);
/** Small-op requests of each h2load run (BENCH_H2LOAD_SMALL). */
const SMALL_REQUESTS_H2LOAD = Number(process.env.BENCH_H2LOAD_SMALL ?? 30_000);
/** Requests before timing starts: V8 needs a few dozen large requests to compile the hot paths and size its heap. */
const DCGAN_WARMUP = Number(process.env.BENCH_DCGAN_WARMUP ?? 20);
/** Side by side, each service is first brought to a steady state: 20 requests left convsvc's heap still growing (28-30 ms against 20-25 ms after 100). */
const SIDE_WARMUP = Number(process.env.BENCH_SIDE_WARMUP ?? 100);
/** Seconds of the small op's load before the timed run. */
const SMALL_WARMUP_SECONDS = Number(process.env.BENCH_SMALL_WARMUP ?? 2);
const [DCGAN, , , SMALL] = SHAPES;

/** Bytes of the request's tensors and its result. */
const tensorBytes = ({ geometry: g }: BenchShape): number =>
  4 * (inputLength(g) + weightLength(g) + g.outChannels + outputLength(g));

async function postWithFetch(url: string, body: Buffer): Promise<number> {
  const t0 = performance.now();
  const res = await fetch(`${url}/v1/conv-transpose2d/forward`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
  });
  await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`status ${res.status}`);
  return performance.now() - t0;
}

interface Run {
  workers: number;
  idleMb: number;
  smallRps: number;
  smallP99: number;
  smallErrors: number;
  dcganMedian: number;
  dcganFetchMedian: number;
  /** The same request over /v2 with the binary tensor data extension (no base64, no JSON payload). */
  dcganBinaryMedian: number;
  dcganSettledMb: number;
  dcganGrowthMb: number;
}

async function measure(workers: number, small: string, dcgan: Buffer): Promise<Run> {
  const s = await start(workers);
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    await new Promise((r) => setTimeout(r, 500));
    const idleMb = memory(s).rss;
    // Warm-up (JIT, heap, scratch and WASM memory sized once per worker), then what a request
    // adds: the peak RSS is reset (clear_refs 5) and compared with the RSS between requests.
    for (let i = 0; i < DCGAN_WARMUP; i++) await post(s.url, dcgan, agent);
    writeFileSync(`/proc/${s.child.pid}/clear_refs`, '5');
    const settled = memory(s).rss;
    const times: number[] = [];
    for (let i = 0; i < DCGAN_REQUESTS; i++) times.push(await post(s.url, dcgan, agent));
    const dcganGrowthMb = memory(s).peak - settled;
    const fetchTimes: number[] = [];
    for (let i = 0; i < DCGAN_REQUESTS; i++) fetchTimes.push(await postWithFetch(s.url, dcgan));
    const binary = v2BinaryBody(DCGAN);
    const binaryTimes: number[] = [];
    for (let i = 0; i < DCGAN_WARMUP + DCGAN_REQUESTS; i++) {
      const ms = await post(s.url, binary.body, agent, '/v2/models/conv_transpose2d/infer', {
        'content-type': BINARY_CONTENT_TYPE,
        [HEADER_LENGTH]: String(binary.headerLength),
      });
      if (i >= DCGAN_WARMUP) binaryTimes.push(ms);
    }
    const smallLoad = (duration: number) => smallOpLoad(s.url, small, duration);
    // Warm-up under the same load, as the DCGAN's: V8 optimizes the paths 16 concurrent
    // connections take over the first few thousand requests.
    await smallLoad(SMALL_WARMUP_SECONDS);
    const result = await smallLoad(SECONDS);
    return {
      workers,
      idleMb,
      smallRps: result.requests.average,
      smallP99: result.latency.p99,
      smallErrors: result.non2xx + result.errors + result.timeouts,
      dcganMedian: median(times),
      dcganFetchMedian: median(fetchTimes),
      dcganBinaryMedian: median(binaryTimes),
      dcganSettledMb: settled,
      dcganGrowthMb,
    };
  } finally {
    agent.destroy();
    await stop(s);
  }
}

/** The small op's /v1 body POSTed by autocannon on 16 connections for `duration` seconds. */
const smallOpLoad = (url: string, body: string, duration: number) =>
  autocannon({
    url: `${url}/v1/conv-transpose2d/forward`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
    connections: 16,
    duration,
  });

/** The bare kernel time of one worker's share of the DCGAN batch on 2 workers: 2 of its 4 samples (best run, warm caches). */
function bareKernelMs(): number {
  const g = { ...DCGAN.geometry, batch: DCGAN.geometry.batch / 2 };
  const input = randomArray(Float32Array, inputLength(g), 1);
  const weight = randomArray(Float32Array, weightLength(g), 2);
  const bias = randomArray(Float32Array, g.outChannels, 3);
  return bestMs(
    () => runTask({ op: 'conv-transpose2d/forward', geometry: g, dtype: 'float32', tensors: { input, weight, bias } }),
    1500,
  );
}

/**
 * The same split without HTTP: the DCGAN task cut by src/split.ts, its parts run concurrently on
 * the service's own pool of 2 workers in this process, the results merged; fresh tensors each
 * time (as a request's are), median. Both cores then share one memory bus and cold caches, which
 * the one-part figure above does not see.
 */
async function bareSplitMs(): Promise<number> {
  const built = (path: string) => pathToFileURL(resolve('dist', path)).href;
  const { KernelPool } = (await import(built('src/pool.js'))) as typeof import('../src/pool.js');
  const { planSplit } = (await import(built('src/split.js'))) as typeof import('../src/split.js');
  const pool = new KernelPool({ workers: 2, maxQueue: 4 });
  const g = DCGAN.geometry;
  const signal = new AbortController().signal;
  const times: number[] = [];
  try {
    for (let i = 0; i < DCGAN_WARMUP + DCGAN_REQUESTS; i++) {
      const tensors = {
        input: randomArray(Float32Array, inputLength(g), i),
        weight: randomArray(Float32Array, weightLength(g), i + 1),
        bias: randomArray(Float32Array, g.outChannels, i + 2),
      };
      const t0 = performance.now();
      const split = planSplit(
        { op: 'conv-transpose2d/forward', geometry: g, dtype: 'float32', tensors },
        pool.workers,
      )!;
      split.merge(await Promise.all(split.parts.map((part) => pool.run(part, signal))));
      if (i >= DCGAN_WARMUP) times.push(performance.now() - t0);
    }
  } finally {
    await pool.close();
  }
  return median(times);
}

/**
 * convsvc on native and on wasm and the Python peer, each on 2 workers, all running at once and
 * timed in interleaved rounds (a few requests to each in turn), so a change in the load of a
 * shared machine falls on all three alike; median per service.
 */
async function sideBySide(dcgan: Buffer): Promise<void> {
  const services: { name: string; service: Service | string }[] = [];
  for (const variant of ['native', 'wasm'] as const) {
    services.push({
      name: `convsvc GEMM_VARIANT=${variant}`,
      service: await start(2, variant).catch((err: Error) => err.message),
    });
  }
  services.push({
    name: 'Python peer (FastAPI + uvicorn 2 workers + PyTorch 1 thread each)',
    service: await startPeer(),
  });
  const running = services.filter((s): s is { name: string; service: Service } => typeof s.service !== 'string');
  const times = new Map<string, number[]>(running.map((s) => [s.name, []]));
  const agents = new Map(running.map((s) => [s.name, new Agent({ keepAlive: true, maxSockets: 1 })]));
  const PER_ROUND = 5;
  try {
    for (const s of running)
      for (let i = 0; i < SIDE_WARMUP; i++) await post(s.service.url, dcgan, agents.get(s.name)!);
    for (let round = 0; round < Math.ceil(DCGAN_REQUESTS / PER_ROUND); round++) {
      for (const s of running) {
        for (let i = 0; i < PER_ROUND; i++)
          times.get(s.name)!.push(await post(s.service.url, dcgan, agents.get(s.name)!));
      }
    }
  } finally {
    for (const agent of agents.values()) agent.destroy();
    for (const s of running) await stop(s.service);
  }
  const peer = running.find((s) => s.name.startsWith('Python'));
  const peerMs = peer === undefined ? NaN : median(times.get(peer.name)!);
  console.log(
    `\nDCGAN forward, 2 workers each, same body and client, /v1 base64: all three up at once, ${DCGAN_REQUESTS} requests each in interleaved rounds of ${PER_ROUND} after ${SIDE_WARMUP} warm-ups each, median\n`,
  );
  console.log(
    table(
      ['service', 'DCGAN median ms', 'vs Python peer'],
      services.map((s) => {
        if (typeof s.service === 'string') return [s.name, `not run: ${s.service}`, '—'];
        const ms = median(times.get(s.name)!);
        return [s.name, ms.toFixed(1), Number.isFinite(peerMs) ? `${(ms / peerMs).toFixed(2)}x` : '—'];
      }),
    ),
  );
}

const v2Headers = (headerLength: number) => ({
  'content-type': BINARY_CONTENT_TYPE,
  [HEADER_LENGTH]: String(headerLength),
});

/** A GET on the keep-alive connection: its time in ms. */
function getMs(url: string, agent: Agent): Promise<number> {
  const t0 = performance.now();
  return new Promise((done, fail) => {
    httpGet(url, { agent }, (res) => {
      res.on('data', () => {});
      res.on('end', () => done(performance.now() - t0));
    }).on('error', fail);
  });
}

/**
 * The DCGAN forward through a stored layer against the same request carrying its weight, on one
 * service with 2 workers, in interleaved rounds (a change in the machine's load falls on both).
 */
async function storedLayer(): Promise<{ carried: number; stored: number }> {
  const s = await start(2);
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const g = DCGAN.geometry;
    const tensor = (shape: number[], length: number, seed: number) => ({
      shape,
      values: randomArray(Float32Array, length, seed),
    });
    const input = tensor([g.batch, g.inChannels, g.inH, g.inW], inputLength(g), 1);
    const weight = tensor([g.inChannels, g.outChannels, g.kH, g.kW], weightLength(g), 2);
    const bias = tensor([g.outChannels], g.outChannels, 3);
    const parameters = { stride_h: g.sH, stride_w: g.sW, padding_h: g.pH, padding_w: g.pW };
    const load = Buffer.from(JSON.stringify(loadLayerBody({ op: 'conv_transpose2d', parameters, weight, bias })));
    await post(s.url, load, agent, '/v2/repository/models/dcgan/load');
    const carried = toV2Request({ input, weight, bias }, parameters);
    const stored = toV2Request({ input });
    const sendCarried = () =>
      post(s.url, carried.body, agent, '/v2/models/conv_transpose2d/infer', v2Headers(carried.headerLength));
    const sendStored = () => post(s.url, stored.body, agent, '/v2/models/dcgan/infer', v2Headers(stored.headerLength));
    for (let i = 0; i < DCGAN_WARMUP; i++) {
      await sendCarried();
      await sendStored();
    }
    const times = { carried: [] as number[], stored: [] as number[] };
    const PER_ROUND = 5;
    for (let round = 0; round < Math.ceil(DCGAN_REQUESTS / PER_ROUND); round++) {
      for (let i = 0; i < PER_ROUND; i++) times.carried.push(await sendCarried());
      for (let i = 0; i < PER_ROUND; i++) times.stored.push(await sendStored());
    }
    return { carried: median(times.carried), stored: median(times.stored) };
  } finally {
    agent.destroy();
    await stop(s);
  }
}

function modelInfer(client: GrpcClient, request: Buffer): Promise<number> {
  const t0 = performance.now();
  return new Promise((done, fail) =>
    (client as unknown as Record<string, (...args: unknown[]) => void>).ModelInfer(
      request,
      new Metadata(),
      (err: Error | null) => (err ? fail(err) : done(performance.now() - t0)),
    ),
  );
}

/**
 * gRPC against REST on one service of 2 workers, in one run: the DCGAN forward as a gRPC
 * ModelInfer (raw contents, one channel) and as /v2 binary (one keep-alive connection),
 * alternating request by request so both see the same machine; the small op over gRPC at 16
 * concurrent calls on one channel against /v1 at 16 autocannon connections, both for SECONDS
 * after the same warm-up. Targets: gRPC DCGAN no slower than /v2 binary, gRPC small op at least
 * REST's throughput. Both clients run in this process, on the same cores as the service: the
 * service's own CPU time per call (its threads included) is printed too, the figure no client
 * weighs on.
 */
async function grpcAgainstRest(small: string): Promise<void> {
  const grpcPort = await freePort();
  const s = await startService({
    HTTP_PROCESSES: '1',
    WORKERS: '2',
    GRPC_PORT: String(grpcPort),
    ...(process.env.GEMM_VARIANT ? { GEMM_VARIANT: process.env.GEMM_VARIANT } : {}),
  });
  const client = new RawInferenceClient(`127.0.0.1:${grpcPort}`, credentials.createInsecure(), {
    'grpc.max_receive_message_length': -1,
    'grpc.max_send_message_length': -1,
    // What a Node client of large tensors should set (docs/api.md, "gRPC"): Node's 64 KiB HTTP/2
    // window otherwise holds each answer to some thirty window updates.
    'grpc-node.flow_control_window': 16 * 2 ** 20,
  });
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const dcgan = grpcForwardMessage(DCGAN);
    const binary = v2BinaryBody(DCGAN);
    if (process.env.BENCH_H2LOAD_ONLY === '1') {
      await sameClient(s.url, grpcPort, small, dcgan, binary);
      return;
    }
    const rest = () =>
      post(s.url, binary.body, agent, '/v2/models/conv_transpose2d/infer', {
        'content-type': BINARY_CONTENT_TYPE,
        [HEADER_LENGTH]: String(binary.headerLength),
      });
    const pid = s.child.pid!;
    const grpcTimes: number[] = [];
    const restTimes: number[] = [];
    let [grpcCpu, restCpu] = [0, 0];
    for (let i = 0; i < DCGAN_WARMUP + DCGAN_REQUESTS; i++) {
      let c = processCpuMs(pid);
      const g = await modelInfer(client, dcgan);
      if (i >= DCGAN_WARMUP) grpcCpu += processCpuMs(pid) - c;
      c = processCpuMs(pid);
      const r = await rest();
      if (i >= DCGAN_WARMUP) {
        restCpu += processCpuMs(pid) - c;
        grpcTimes.push(g);
        restTimes.push(r);
      }
    }
    const smallGrpc = grpcForwardMessage(SMALL);
    // BENCH_GRPC_CHANNELS connections share the 16 calls (default 1: one channel, as clients use).
    const channels = Array.from({ length: Number(process.env.BENCH_GRPC_CHANNELS ?? 1) }, (_, i) =>
      i === 0
        ? client
        : new RawInferenceClient(`127.0.0.1:${grpcPort}`, credentials.createInsecure(), {
            'grpc.use_local_subchannel_pool': 1,
          }),
    );
    const grpcLoad = async (seconds: number) => {
      const end = performance.now() + seconds * 1000;
      const latencies: number[] = [];
      let errors = 0;
      await Promise.all(
        Array.from({ length: 16 }, async (_, i) => {
          while (performance.now() < end)
            await modelInfer(channels[i % channels.length], smallGrpc).then(
              (ms) => latencies.push(ms),
              () => errors++,
            );
        }),
      );
      latencies.sort((a, b) => a - b);
      return { rps: latencies.length / seconds, p99: latencies[Math.floor(latencies.length * 0.99)] ?? 0, errors };
    };
    const restLoad = (duration: number) => smallOpLoad(s.url, small, duration);
    await restLoad(SMALL_WARMUP_SECONDS);
    let c = processCpuMs(pid);
    const restSmall = await restLoad(SECONDS);
    const restSmallCpu = ((processCpuMs(pid) - c) * 1000) / restSmall.requests.total;
    await grpcLoad(SMALL_WARMUP_SECONDS);
    c = processCpuMs(pid);
    const grpcSmall = await grpcLoad(SECONDS);
    const grpcSmallCpu = ((processCpuMs(pid) - c) * 1000) / (grpcSmall.rps * SECONDS);
    const [gMs, rMs] = [median(grpcTimes), median(restTimes)];
    console.log(
      `\ngRPC against REST, one service of 2 workers (${DCGAN_REQUESTS} DCGAN requests of each, alternating, after ${DCGAN_WARMUP}; small op ${SECONDS} s at 16 concurrent)\n`,
    );
    console.log(
      table(
        [
          '',
          'DCGAN median ms',
          'DCGAN service CPU ms/call',
          'small op req/s',
          'small p99 ms',
          'small service CPU us/call',
          'errors',
        ],
        [
          [
            'gRPC ModelInfer (raw contents)',
            gMs.toFixed(1),
            (grpcCpu / DCGAN_REQUESTS).toFixed(1),
            grpcSmall.rps.toFixed(0),
            grpcSmall.p99.toFixed(1),
            grpcSmallCpu.toFixed(0),
            String(grpcSmall.errors),
          ],
          [
            'REST (/v2 binary; small op /v1)',
            rMs.toFixed(1),
            (restCpu / DCGAN_REQUESTS).toFixed(1),
            restSmall.requests.average.toFixed(0),
            restSmall.latency.p99.toFixed(1),
            restSmallCpu.toFixed(0),
            String(restSmall.non2xx + restSmall.errors + restSmall.timeouts),
          ],
        ],
      ),
    );
    for (const c of channels.slice(1)) c.close();
    console.log(`gRPC DCGAN ${(rMs / gMs).toFixed(2)}x the speed of /v2 binary (target >= 1)`);
    console.log(
      `gRPC small op ${(grpcSmall.rps / restSmall.requests.average).toFixed(2)}x REST's throughput (target >= 1); the service's CPU per call ${(grpcSmallCpu / restSmallCpu).toFixed(2)}x REST's`,
    );
    if (hasH2load()) await sameClient(s.url, grpcPort, small, dcgan, binary);
    else console.log('h2load is not installed (Debian: nghttp2-client): the same-client comparison was not made');
  } finally {
    client.close();
    agent.destroy();
    await stop(s);
  }
}

/**
 * The same comparison with one C client for both transports (h2load: HTTP/1.1 for REST, HTTP/2
 * for gRPC), so neither is held back by its client on the cores the service shares: the small op
 * over gRPC as 16 calls open on one connection against /v1 on 16 connections; the DCGAN forward
 * one request at a time and 8 at once (8 connections each), gRPC raw contents against /v2 binary.
 * A gRPC error is an HTTP 200 too: every answer must carry the output's bytes.
 */
async function sameClient(
  restUrl: string,
  grpcPort: number,
  small: string,
  dcgan: Buffer,
  binary: { body: Uint8Array; headerLength: number },
): Promise<void> {
  const grpcUrl = `http://127.0.0.1:${grpcPort}/inference.GRPCInferenceService/ModelInfer`;
  const grpcHeaders = { 'content-type': 'application/grpc', te: 'trailers' };
  const smallGrpc = grpcFramed(grpcForwardMessage(SMALL));
  const dcganGrpc = grpcFramed(dcgan);
  const restSmall = () =>
    h2loadRun(
      `${restUrl}/v1/conv-transpose2d/forward`,
      small,
      { 'content-type': 'application/json' },
      {
        requests: SMALL_REQUESTS_H2LOAD,
        connections: 16,
        h1: true,
      },
    );
  const grpcSmall = () =>
    h2loadRun(grpcUrl, smallGrpc, grpcHeaders, { requests: SMALL_REQUESTS_H2LOAD, connections: 1, streams: 16 });
  const restDcgan = (connections: number) =>
    h2loadRun(
      `${restUrl}/v2/models/conv_transpose2d/infer`,
      binary.body,
      { 'content-type': BINARY_CONTENT_TYPE, [HEADER_LENGTH]: String(binary.headerLength) },
      { requests: DCGAN_REQUESTS * connections, connections, h1: true },
    );
  const grpcDcgan = (connections: number) =>
    h2loadRun(grpcUrl, dcganGrpc, grpcHeaders, { requests: DCGAN_REQUESTS * connections, connections });
  // Interleaved rounds of every run, the first a warm-up.
  const runs = {
    restSmall,
    grpcSmall,
    rest1: () => restDcgan(1),
    grpc1: () => grpcDcgan(1),
    rest8: () => restDcgan(8),
    grpc8: () => grpcDcgan(8),
  };
  const got = Object.fromEntries(Object.keys(runs).map((k) => [k, [] as H2loadRun[]])) as Record<
    keyof typeof runs,
    H2loadRun[]
  >;
  for (let round = 0; round < 3; round++)
    for (const [name, run] of Object.entries(runs) as [keyof typeof runs, () => Promise<H2loadRun>][]) {
      const result = await run();
      if (round > 0) got[name].push(result);
    }
  const outputBytes = ({ geometry: g }: BenchShape) => 4 * g.batch * g.outChannels * g.outH * g.outW;
  const failed = Object.values(got)
    .flat()
    .reduce((n, r) => n + r.failed, 0);
  const short = [
    ...got.grpcSmall.filter((r) => r.answerBytes < outputBytes(SMALL)),
    ...[...got.grpc1, ...got.grpc8].filter((r) => r.answerBytes < outputBytes(DCGAN)),
  ].length;
  const mean = (name: keyof typeof runs, key: 'rps' | 'meanMs') =>
    got[name].reduce((n, r) => n + r[key], 0) / got[name].length;
  console.log('\nThe same with h2load as the client of both (2 rounds after one of warm-up, means)\n');
  console.log(
    table(
      ['', 'small op req/s (16 at once)', 'DCGAN ms (one at a time)', 'DCGAN req/s (8 at once)'],
      [
        [
          'gRPC',
          mean('grpcSmall', 'rps').toFixed(0),
          mean('grpc1', 'meanMs').toFixed(1),
          mean('grpc8', 'rps').toFixed(1),
        ],
        [
          'REST',
          mean('restSmall', 'rps').toFixed(0),
          mean('rest1', 'meanMs').toFixed(1),
          mean('rest8', 'rps').toFixed(1),
        ],
      ],
    ),
  );
  console.log(
    `gRPC small op ${(mean('grpcSmall', 'rps') / mean('restSmall', 'rps')).toFixed(2)}x REST's throughput; gRPC DCGAN ${(mean('rest1', 'meanMs') / mean('grpc1', 'meanMs')).toFixed(2)}x the speed of /v2 binary one at a time, ${(mean('grpc8', 'rps') / mean('rest8', 'rps')).toFixed(2)}x its throughput 8 at once (targets >= 1); ${failed} requests failed, ${short} gRPC runs answered without the output's bytes`,
  );
}

/** /health/live's latencies, polled every 10 ms on a connection of its own, while a 64 MiB layer loads. */
async function liveDuringLoad(): Promise<{
  loadMs: number;
  bodyMb: number;
  maxMs: number;
  p99Ms: number;
  probes: number;
}> {
  const s = await startService({ HTTP_PROCESSES: '1', WORKERS: '2', MEMORY_BUDGET_BYTES: String(2 ** 30) });
  const probe = new Agent({ keepAlive: true, maxSockets: 1 });
  const loader = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    // 1024 x 1024 x 4 x 4 float32: 64 MiB, MAX_ELEMENTS' default exactly.
    const weight = { shape: [1024, 1024, 4, 4], values: randomArray(Float32Array, 1024 * 1024 * 16, 7) };
    const body = Buffer.from(JSON.stringify(loadLayerBody({ op: 'conv_transpose2d', weight })));
    const latencies: number[] = [];
    // A warm probe connection and load thread first: the figure is the load's, not a first request's.
    for (let i = 0; i < 20; i++) await getMs(`${s.url}/health/live`, probe);
    let done = false;
    const t0 = performance.now();
    const loading = post(s.url, body, loader, '/v2/repository/models/big/load').finally(() => {
      done = true;
    });
    while (!done) {
      latencies.push(await getMs(`${s.url}/health/live`, probe));
      await new Promise((r) => setTimeout(r, 10));
    }
    await loading;
    const loadMs = performance.now() - t0;
    const sorted = [...latencies].sort((a, b) => a - b);
    return {
      loadMs,
      bodyMb: body.length / 2 ** 20,
      maxMs: sorted.at(-1) ?? NaN,
      p99Ms: sorted[Math.floor(0.99 * (sorted.length - 1))] ?? NaN,
      probes: sorted.length,
    };
  } finally {
    probe.destroy();
    loader.destroy();
    await stop(s);
  }
}

async function layers(): Promise<void> {
  const { carried, stored } = await storedLayer();
  console.log(
    `\nDCGAN forward over /v2 binary, 2 workers, ${DCGAN_REQUESTS} requests each in interleaved rounds after ${DCGAN_WARMUP} warm-ups each, median\n`,
  );
  console.log(
    table(
      ['request', 'body MB', 'median ms'],
      [
        [
          'carrying weight and bias (conv_transpose2d)',
          (4 * (inputLength(DCGAN.geometry) + weightLength(DCGAN.geometry))) / 2 ** 20,
          carried,
        ],
        ['stored layer (input only)', (4 * inputLength(DCGAN.geometry)) / 2 ** 20, stored],
      ].map(([name, mb, ms]) => [String(name), (mb as number).toFixed(1), (ms as number).toFixed(1)]),
    ),
  );
  console.log(
    `stored layer ${(stored / carried).toFixed(2)}x the time of the request carrying its weight (target <= 0.7x)`,
  );
  const live = await liveDuringLoad();
  console.log(
    `\n/health/live during the load of a 64 MiB layer (${live.bodyMb.toFixed(0)} MiB body, loaded in ${live.loadMs.toFixed(0)} ms): ${live.probes} probes, p99 ${live.p99Ms.toFixed(1)} ms, max ${live.maxMs.toFixed(1)} ms (target: max <= 100 ms)`,
  );
}

async function main(): Promise<void> {
  if (process.env.BENCH_LAYERS_ONLY === '1') {
    await layers();
    return;
  }
  const small = forwardBody(SMALL);
  const dcgan = Buffer.from(forwardBody(DCGAN));
  if (process.env.BENCH_SIDE_BY_SIDE_ONLY === '1') {
    await sideBySide(dcgan);
    return;
  }
  if (process.env.BENCH_GRPC_ONLY === '1' || process.env.BENCH_H2LOAD_ONLY === '1') {
    await grpcAgainstRest(small);
    return;
  }
  const runs = [await measure(1, small, dcgan), await measure(2, small, dcgan)];
  const bare = bareKernelMs();
  const split = await bareSplitMs();
  const [one, two] = runs;
  console.log(
    `service ${SERVER}; small op ${SECONDS} s at 16 connections; DCGAN ${DCGAN_REQUESTS} sequential requests on one node:http keep-alive connection (median, after ${DCGAN_WARMUP} warm-up requests)\n`,
  );
  console.log(
    table(
      [
        'workers',
        'idle RSS MB',
        'small op req/s',
        'small p99 ms',
        'errors',
        'DCGAN median ms',
        'DCGAN with fetch ms',
        'DCGAN /v2 binary ms',
        'RSS settled after warm-up MB',
        'DCGAN RSS peak over settled MB',
      ],
      runs.map((r) => [
        String(r.workers),
        r.idleMb.toFixed(0),
        r.smallRps.toFixed(0),
        r.smallP99.toFixed(1),
        String(r.smallErrors),
        r.dcganMedian.toFixed(1),
        r.dcganFetchMedian.toFixed(1),
        r.dcganBinaryMedian.toFixed(1),
        r.dcganSettledMb.toFixed(0),
        r.dcganGrowthMb.toFixed(1),
      ]),
    ),
  );
  const mb = tensorBytes(DCGAN) / 2 ** 20;
  console.log(
    `\nDCGAN batch of 4: 2 workers ${(one.dcganMedian / two.dcganMedian).toFixed(2)}x faster than 1 (target >= 1.7x)`,
  );
  console.log(`DCGAN on 2 workers: ${two.dcganMedian.toFixed(1)} ms over HTTP (target <= 40 ms)`);
  console.log(
    `  vs the same split in-process on the pool, fresh tensors: ${split.toFixed(1)} ms = ${(two.dcganMedian / split).toFixed(2)}x (target <= 1.3x)`,
  );
  console.log(`  vs one part alone, warm, best run: ${bare.toFixed(1)} ms = ${(two.dcganMedian / bare).toFixed(2)}x`);
  console.log(
    `DCGAN tensors ${mb.toFixed(1)} MB; peak RSS growth ${(two.dcganGrowthMb / mb).toFixed(1)}x of them on 2 workers (target <= 4x)`,
  );
  await layers();
  await sideBySide(dcgan);
  await grpcAgainstRest(small);
}

await main();
