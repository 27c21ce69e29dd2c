/**
 * `npm run load [-- --duration 30 --processes 2]`: overloads a real server (HTTP_PROCESSES=2 by
 * default, where there are 2 cores) on 127.0.0.1 with autocannon —
 * 64 connections of large base64 requests plus a mix of small JSON ones — while attackers work
 * on it: 150 sockets trickling their bodies a byte a second, sockets that send requests with
 * large answers and never read them (16 more every 5 s), and requests spelled to get past the
 * API key (`/%761/...`). Probes /health/live throughout, then stops the server with SIGTERM
 * while the trickling bodies are still arriving and 16 large requests are in flight (each must
 * be answered 200, or 503 when not yet admitted). Prints admitted throughput, latency, the count
 * of each status, the liveness latency and the server's peak RSS. Exits 1 on any status outside
 * {200, 503} for the clients, anything but 401 for the spelled paths, no answer cut of those
 * never read (`convsvc_answers_cut_total`), on connection errors or
 * timeouts, on peak RSS above the memory model's bound, on liveness slower than 100 ms (p99),
 * or on an exit code other than 0.
 *
 * `npm run load -- --scenario memory --encoding json|base64|binary`: 16 clients send valid
 * 24 MB requests in a loop to a server with MEMORY_BUDGET_BYTES=1 GiB (`--budget-mib`), defaults
 * otherwise. Exits 1 on any status outside {200, 503 + Retry-After}, on peak RSS above 1.3 x the
 * budget, on an unanswered liveness probe, or if the process dies.
 */

import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { peakRss, percentile, probeLiveness, showServerErrors, startServer, statuses } from './load/harness.js';
import { rssBound } from './load/memory-model.js';
import { runMemoryScenario } from './load/memory-scenario.js';
import { startNonReaders } from './load/non-readers.js';
import { startTricklers } from './load/tricklers.js';
import { treeMemory } from './process-tree.js';

type Result = Awaited<ReturnType<typeof autocannon>>;
const MiB = 2 ** 20;
const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '30' },
    processes: { type: 'string', default: String(Math.min(2, availableParallelism())) },
    workers: { type: 'string', default: String(Math.min(2, availableParallelism())) },
    'max-queue': { type: 'string', default: '16' },
    'max-body-mib': { type: 'string', default: '8' },
    connections: { type: 'string', default: '64' },
    scenario: { type: 'string', default: 'overload' },
    encoding: { type: 'string', default: 'json' },
    'budget-mib': { type: 'string', default: '1024' },
    'body-mb': { type: 'string', default: '24' },
  },
});
const scenario = values.scenario;
if (scenario !== 'overload' && scenario !== 'memory')
  throw new Error(`--scenario is overload or memory, not ${scenario}`);
const duration = Number(values.duration);
const processes = Number(values.processes);
const workers = Number(values.workers);
const maxQueue = Number(values['max-queue']);
const maxBodyBytes = Number(values['max-body-mib']) * MiB;

/** A large request: a 1-M-element float32 input (5.3 MB of base64) -> a 1-M-element output. */
function largeBody(): string {
  const input = new Float32Array(16 * 256 * 256).map((_, i) => (i % 97) / 97);
  const weight = new Float32Array(16 * 16 * 9).map((_, i) => (i % 7) / 7 - 0.5);
  const b64 = (a: Float32Array) => Buffer.from(a.buffer).toString('base64');
  return JSON.stringify({
    input: { shape: [1, 16, 256, 256], b64: b64(input) },
    weight: { shape: [16, 16, 3, 3], b64: b64(weight) },
    padding: 1,
  });
}
/** A conv small enough to run on the main thread (INLINE_MAX_MACS), so overload reaches that path too. */
const smallBody = JSON.stringify({
  input: { shape: [1, 4, 8, 8], data: Array.from({ length: 256 }, (_, i) => (i % 13) / 10) },
  weight: { shape: [4, 4, 3, 3], data: Array.from({ length: 144 }, (_, i) => (i % 5) / 10 - 0.2) },
  padding: 1,
});

/** One request on a connection of its own: its status, or the error that ended it (a lost request). */
function postOnce(url: string, body: string): Promise<string> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer load-key' },
    body,
  }).then(
    async (r) => {
      await r.arrayBuffer();
      return String(r.status);
    },
    (err: Error) => `error: ${(err.cause as Error | undefined)?.message ?? err.message}`,
  );
}

if (scenario === 'memory') {
  await runMemoryScenario({
    workers,
    duration: Number(values.duration),
    encoding: values.encoding,
    budgetBytes: Number(values['budget-mib']) * MiB,
    bodyBytes: Number(values['body-mb']) * 1e6,
  });
} else {
  const server = await startServer(workers, {
    HTTP_PROCESSES: String(processes),
    MAX_QUEUE: String(maxQueue),
    MAX_BODY_BYTES: String(maxBodyBytes),
    API_KEYS: 'load-key',
  });
  const idleRss = peakRss(server.pid);
  const probe = probeLiveness(server.url);
  const tricklers = startTricklers(server.url, 150, maxBodyBytes / 2);
  // The large request's answer (5.6 MB of base64) is larger than the sockets take unread.
  const nonReaders = startNonReaders(server.url, { path: '/v1/conv2d/forward', body: largeBody() }, 16, 5000);
  const common = {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer load-key' },
    duration,
    timeout: 60,
  };
  const [large, small, spelled] = await Promise.all([
    autocannon({
      ...common,
      url: `${server.url}/v1/conv2d/forward`,
      connections: Number(values.connections),
      body: largeBody(),
    }),
    autocannon({ ...common, url: `${server.url}/v1/conv-transpose2d/forward`, connections: 8, body: smallBody }),
    // Without the key, under spellings the router decodes to an op route: every one must be a 401.
    autocannon({
      ...common,
      headers: { 'content-type': 'application/json' },
      url: server.url,
      connections: 2,
      requests: [
        { path: '/%761/conv-transpose2d/forward', body: smallBody },
        { path: '/%762/models/conv_transpose2d/infer', body: '{}' },
      ],
    }),
  ]);
  const live = await probe.stop();
  // The server's own view of its event loop (prom-client): a stall shows as a high max, a busy
  // loop as a high p99.
  const lag = await fetch(`${server.url}/metrics`).then((r) => r.text());
  const lagOf = (name: string) =>
    Number(new RegExp(`^convsvc_nodejs_eventloop_lag_${name}_seconds (\\S+)`, 'm').exec(lag)?.[1] ?? NaN) * 1000;
  const answersCut = Number(/^convsvc_answers_cut_total (\S+)/m.exec(lag)?.[1] ?? 0);
  nonReaders.stop();
  // SIGTERM under load, while 150 bodies are still trickling in: every admitted request is
  // answered 200, the rest 503, the trickling bodies 503, and the exit is prompt.
  tricklers.hold();
  const lastWave = Array.from({ length: 16 }, () => postOnce(`${server.url}/v1/conv2d/forward`, largeBody()));
  await new Promise((r) => setTimeout(r, 300));
  // The processes' peaks, read until they exit (a server process's are gone with it).
  let peak = peakRss(server.pid);
  const watch = setInterval(() => (peak = Math.max(peak, treeMemory(server.pid).peaks)), 20);
  const stopping = performance.now();
  const { code: exitCode } = await server.stop();
  const stopMs = performance.now() - stopping;
  clearInterval(watch);
  const lastStatuses: Record<string, number> = {};
  for (const status of await Promise.all(lastWave)) lastStatuses[status] = (lastStatuses[status] ?? 0) + 1;
  await new Promise((r) => setTimeout(r, 200));
  tricklers.stop();

  const counts = statuses(large, small);
  const bound = rssBound(workers, maxQueue, maxBodyBytes, processes);
  const fmt = (r: Result) => `p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms, max ${r.latency.max} ms`;
  console.log(
    `load: ${duration} s, HTTP_PROCESSES=${processes} WORKERS=${workers} MAX_QUEUE=${maxQueue} MAX_BODY_BYTES=${maxBodyBytes / MiB} MiB, server ${server.url}`,
  );
  console.log(
    `  large (conv2d 1x16x256x256, base64, ${values.connections} connections): ${large.requests.total} answers, admitted ${((large.statusCodeStats['200']?.count ?? 0) / duration).toFixed(1)}/s; latency ${fmt(large)}`,
  );
  console.log(
    `  small (conv-transpose2d forward run inline, JSON, 8 connections): ${small.requests.total} answers, admitted ${((small.statusCodeStats['200']?.count ?? 0) / duration).toFixed(1)}/s; latency ${fmt(small)}`,
  );
  console.log(
    `  statuses: ${JSON.stringify(counts)}; connection errors ${large.errors + small.errors}, timeouts ${large.timeouts + small.timeouts}`,
  );
  console.log(
    `  attackers: spelled paths without a key ${JSON.stringify(statuses(spelled))}; 150 trickling sockets answered ${JSON.stringify(tricklers.answers)}; ${nonReaders.opened()} sockets that never read their answers, ${answersCut} answers cut`,
  );
  console.log(
    `  /health/live under load: ${live.length} probes, p50 ${percentile(live, 50).toFixed(1)} ms, p99 ${percentile(live, 99).toFixed(1)} ms, max ${Math.max(...live).toFixed(1)} ms`,
  );
  console.log(
    `  server event loop lag (since start): p50 ${lagOf('p50').toFixed(1)} ms, p99 ${lagOf('p99').toFixed(1)} ms, max ${lagOf('max').toFixed(1)} ms`,
  );
  console.log(`  SIGTERM with 16 large requests sent 300 ms before: ${JSON.stringify(lastStatuses)}`);
  console.log(
    `  server RSS: idle ${(idleRss / MiB).toFixed(0)} MiB, peak ${(peak / MiB).toFixed(0)} MiB, bound ${(bound / MiB).toFixed(0)} MiB (memory model); exit code on SIGTERM ${exitCode} after ${stopMs.toFixed(0)} ms`,
  );

  const failures: string[] = [];
  const unexpected = Object.keys(counts).filter((c) => c !== '200' && c !== '503');
  if (unexpected.length > 0) failures.push(`statuses outside {200, 503}: ${unexpected.join(', ')}`);
  if (large.errors + small.errors + large.timeouts + small.timeouts > 0) failures.push('connection errors or timeouts');
  if ((counts['200'] ?? 0) === 0) failures.push('nothing was admitted');
  if (peak > bound)
    failures.push(`peak RSS ${(peak / MiB).toFixed(0)} MiB above the bound ${(bound / MiB).toFixed(0)} MiB`);
  if (percentile(live, 99) > 100) failures.push(`/health/live p99 ${percentile(live, 99).toFixed(1)} ms above 100 ms`);
  if (exitCode !== 0) failures.push(`the server exited ${exitCode} on SIGTERM`);
  const lost = Object.keys(lastStatuses).filter((c) => c !== '200' && c !== '503');
  if (lost.length > 0) failures.push(`requests in flight at SIGTERM were answered ${lost.join(', ')}`);
  if ((lastStatuses['200'] ?? 0) === 0) failures.push('no request in flight at SIGTERM was finished');
  const spelledStatuses = Object.keys(statuses(spelled)).filter((c) => c !== '401');
  if (spelledStatuses.length > 0)
    failures.push(`spelled paths without a key were answered ${spelledStatuses.join(', ')}`);
  if ((tricklers.answers['408'] ?? 0) === 0) failures.push('no trickling body was cut off (408)');
  if (answersCut === 0) failures.push('no answer left unread was cut');
  const trickled = Object.keys(tricklers.answers).filter((c) => c !== '408' && c !== '503');
  if (trickled.length > 0) failures.push(`trickling sockets were answered ${trickled.join(', ')}`);
  showServerErrors(server);
  if (failures.length > 0) {
    console.error(`FAILED: ${failures.join('; ')}`);
    process.exit(1);
  }
  console.log('  ok');
}
