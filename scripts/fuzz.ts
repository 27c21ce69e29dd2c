/**
 * `npm run fuzz [-- --runs N --seed S --processes P --url http://127.0.0.1:PORT --key K]`:
 * fast-check over the live HTTP API. Without --url it starts the built server as a real process
 * on a loopback port (HTTP_PROCESSES=P, default 2 where there are 2 cores), with API key K
 * (default fuzz-key), which every request carries but those spelled to get around it. Every
 * answer must be a 4xx problem document or a correct 200 — never a 5xx, a hang or a crash (a
 * server process that dies is restarted by the primary, so its error log line counts as one);
 * SIGTERM then must end it with exit code 0. Exits 1 otherwise.
 * `--grpc` fuzzes the gRPC port instead (scripts/fuzz/grpc.ts: ModelInfer calls, malformed
 * protobuf, hostile metadata), `--grpc-address 127.0.0.1:PORT` a running one.
 */
import { createServer } from 'node:net';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { fuzzGrpc } from './fuzz/grpc.js';
import { fuzz } from './fuzz/run.js';
import { startServer } from './load/harness.js';
import type { RunningServer } from './server-process.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '10000' },
    seed: { type: 'string' },
    processes: { type: 'string', default: String(Math.min(2, availableParallelism())) },
    url: { type: 'string' },
    key: { type: 'string', default: 'fuzz-key' },
    grpc: { type: 'boolean', default: false },
    'grpc-address': { type: 'string' },
  },
});

/** Stops the fuzzed server, if this script started it: what it did wrong, or undefined. */
async function serverVerdict(server: RunningServer | undefined): Promise<string | undefined> {
  if (server === undefined) return undefined;
  if (!server.alive()) return 'the server died';
  const { code } = await server.stop();
  if (code !== 0) return `the server exited ${code} on SIGTERM`;
  if (server.errorLines.length > 0)
    return `the server logged errors:\n    ${server.errorLines.slice(0, 5).join('\n    ')}`;
  return undefined;
}

if (values.grpc || values['grpc-address']) {
  const port = await new Promise<number>((done) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => done(port));
    });
  });
  const own = values['grpc-address']
    ? undefined
    : await startServer(1, { HTTP_PROCESSES: values.processes, API_KEYS: values.key, GRPC_PORT: String(port) });
  const address = values['grpc-address'] ?? `127.0.0.1:${port}`;
  const report = await fuzzGrpc({
    address,
    runs: Number(values.runs),
    seed: values.seed === undefined ? undefined : Number(values.seed),
    apiKey: values.key,
  });
  const failure = report.failure ?? (await serverVerdict(own));
  console.log(`fuzz (gRPC): ${report.runs} calls against ${address}, seed ${report.seed}`);
  console.log(`  codes: ${JSON.stringify(report.codes)}`);
  console.log(`  kinds: ${JSON.stringify(report.kinds)}`);
  if (failure) {
    console.error(`FAILED: ${failure}`);
    process.exit(1);
  }
  console.log("  every call ended OK with whole tensors or in one of the protocol's refusals");
  process.exit(0);
}

// Its own server takes an API key, so requests spelled to slip past it can be told apart.
const server = values.url
  ? undefined
  : await startServer(1, { HTTP_PROCESSES: values.processes, API_KEYS: values.key });
const baseUrl = values.url ?? server!.url;
const started = performance.now();
const report = await fuzz({
  baseUrl,
  runs: Number(values.runs),
  seed: values.seed === undefined ? undefined : Number(values.seed),
  apiKey: values.key,
});
const seconds = (performance.now() - started) / 1000;
const failure = report.failure ?? (await serverVerdict(server));

console.log(
  `fuzz: ${report.runs} requests in ${seconds.toFixed(1)} s against ${baseUrl}${server ? ` (HTTP_PROCESSES=${values.processes})` : ''}, seed ${report.seed}`,
);
console.log(`  statuses: ${JSON.stringify(report.statuses)}`);
console.log(`  kinds:    ${JSON.stringify(report.kinds)}`);
if (failure) {
  console.error(`FAILED: ${failure}`);
  process.exit(1);
}
console.log('  every answer was a 4xx problem document or a correct 200');
