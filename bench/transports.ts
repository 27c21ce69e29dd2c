/**
 * `npm run bench:transports`: what the DCGAN forward's transport costs, apart from the service.
 * Needs h2load (Debian: nghttp2-client), the client of every run, at 8 connections (8 calls at
 * once), interleaved rounds after one of warm-up:
 * - the service (one process, 2 workers): /v2 binary over HTTP/1.1 and ModelInfer over gRPC;
 * - bare servers (bench/echo-server.ts) taking the same request bytes and answering the same
 *   number of bytes, doing nothing else: node:http, gRPC's framing by hand on node:http2, and
 *   @grpc/grpc-js.
 * Each run's CPU is counted on both sides, the server's (its threads included) and h2load's, as
 * they share the machine's cores. With the cores saturated, as 8 DCGAN calls at once keep them,
 * throughput goes as the inverse of the CPU a call takes; so the bare servers tell how far any
 * gRPC server on node:http2 could go: the service's REST call plus what node:http2 costs over
 * node:http for the same bytes. BENCH_ROUNDS (default 3) counts the rounds, the first a warm-up.
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { SERVICE_NODE_FLAGS } from '../src/service-node-flags.js';
import { HEADER_LENGTH } from '../src/v2/binary.js';
import {
  endedChildrenCpuMs,
  freePort,
  grpcForwardMessage,
  grpcFramed,
  type H2loadRun,
  h2loadRun,
  hasH2load,
  processCpuMs,
  startService,
  stop,
  v2BinaryBody,
} from './services.js';
import { outputLength, SHAPES } from './shapes.js';
import { table } from './timing.js';

/** The method bench/echo-server.ts's grpc-js server answers. */
const ECHO_PATH = '/bench.Echo/Echo';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONNECTIONS = 8;
const REQUESTS = Number(process.env.BENCH_TRANSPORT_REQUESTS ?? 240);
const [DCGAN] = SHAPES;

interface Target {
  readonly name: string;
  readonly pid: number;
  readonly run: () => Promise<H2loadRun>;
}

interface Tally {
  rps: number[];
  serverMs: number;
  clientMs: number;
  calls: number;
  failed: number;
}

const echoServer = async (kind: string, answerBytes: number) => {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [
      ...SERVICE_NODE_FLAGS,
      '--import',
      'tsx',
      resolve('bench/echo-server.ts'),
      kind,
      String(port),
      String(answerBytes),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await new Promise<void>((done, fail) => {
    child.stdout.once('data', () => done());
    child.once('exit', (code) => fail(new Error(`the ${kind} echo server exited (${code})`)));
  });
  return { port, child };
};

async function main(): Promise<void> {
  if (!hasH2load()) {
    console.log('h2load is not installed (Debian: nghttp2-client): nothing was measured');
    return;
  }
  const answerBytes = 4 * outputLength(DCGAN.geometry);
  const grpcBody = grpcFramed(grpcForwardMessage(DCGAN));
  const binary = v2BinaryBody(DCGAN);
  const grpcHeaders = { 'content-type': 'application/grpc', te: 'trailers' };
  const restHeaders = { 'content-type': 'application/octet-stream', [HEADER_LENGTH]: String(binary.headerLength) };
  const grpcPort = await freePort();
  const service = await startService({ HTTP_PROCESSES: '1', WORKERS: '2', GRPC_PORT: String(grpcPort) });
  const echoes = await Promise.all(['http1', 'http2', 'grpc-js'].map((k) => echoServer(k, answerBytes)));
  const [h1, h2, grpcJs] = echoes;
  const options = { requests: REQUESTS, connections: CONNECTIONS };
  const h1Run = (url: string) => () => h2loadRun(url, binary.body, restHeaders, { ...options, h1: true });
  const h2Run = (url: string) => () => h2loadRun(url, grpcBody, grpcHeaders, options);
  const grpcUrl = (port: number, path = '/inference.GRPCInferenceService/ModelInfer') =>
    `http://127.0.0.1:${port}${path}`;
  const targets: Target[] = [
    {
      name: 'service: /v2 binary (HTTP/1.1)',
      pid: service.child.pid!,
      run: h1Run(`${service.url}/v2/models/conv_transpose2d/infer`),
    },
    { name: 'service: gRPC ModelInfer (grpc-js)', pid: service.child.pid!, run: h2Run(grpcUrl(grpcPort)) },
    { name: 'bare node:http', pid: h1.child.pid!, run: h1Run(`http://127.0.0.1:${h1.port}/`) },
    { name: 'bare node:http2, gRPC framing', pid: h2.child.pid!, run: h2Run(grpcUrl(h2.port)) },
    { name: 'bare @grpc/grpc-js', pid: grpcJs.child.pid!, run: h2Run(grpcUrl(grpcJs.port, ECHO_PATH)) },
  ];
  const tallies = new Map<string, Tally>(
    targets.map((t) => [t.name, { rps: [], serverMs: 0, clientMs: 0, calls: 0, failed: 0 }]),
  );
  try {
    for (let round = 0; round < ROUNDS; round++)
      for (const t of targets) {
        const [server, client] = [processCpuMs(t.pid), endedChildrenCpuMs()];
        const r = await t.run();
        if (round === 0) continue;
        const tally = tallies.get(t.name)!;
        tally.rps.push(r.rps);
        tally.serverMs += processCpuMs(t.pid) - server;
        tally.clientMs += endedChildrenCpuMs() - client;
        tally.calls += REQUESTS;
        // A gRPC error is an HTTP 200 too: an answer must carry the output's bytes.
        tally.failed += r.failed + (r.answerBytes < answerBytes ? REQUESTS : 0);
      }
  } finally {
    for (const e of echoes) e.child.kill();
    await stop(service);
  }
  const per = (t: Tally) => {
    const server = t.serverMs / t.calls;
    const client = t.clientMs / t.calls;
    return { rps: t.rps.reduce((a, b) => a + b, 0) / t.rps.length, server, client, total: server + client };
  };
  const rows = targets.map((t) => ({ name: t.name, ...per(tallies.get(t.name)!) }));
  console.log(
    `\nThe DCGAN forward's transports, h2load at ${CONNECTIONS} connections, ${REQUESTS} calls a run (${ROUNDS - 1} rounds after one of warm-up; CPU per call)\n`,
  );
  console.log(
    table(
      ['', 'req/s', 'server CPU ms', 'h2load CPU ms', 'both ms'],
      rows.map((r) => [r.name, r.rps.toFixed(1), r.server.toFixed(2), r.client.toFixed(2), r.total.toFixed(2)]),
    ),
  );
  const [rest, grpc, bareH1, bareH2, bareGrpcJs] = rows;
  const overH1 = bareH2.total - bareH1.total;
  console.log(
    `gRPC on the service: ${(grpc.rps / rest.rps).toFixed(2)}x REST's throughput. node:http2 costs ${overH1.toFixed(2)} ms a call more than node:http for the same bytes (both sides), grpc-js ${(bareGrpcJs.total - bareH2.total).toFixed(2)} ms more again: a gRPC server of our own on node:http2 would reach at most ${(rest.total / (rest.total + overH1)).toFixed(2)}x REST's throughput; ${[...tallies.values()].reduce((n, t) => n + t.failed, 0)} calls failed`,
  );
}

await main();
