/**
 * `npm run load -- --scenario memory`: valid requests of ~24 MB, 16 clients in a loop, against a
 * server whose memory budget is 1 GiB and everything else default. What it shows: only 200 and
 * 503 + Retry-After, peak RSS within 1.3 x the budget, liveness answered throughout, the process
 * alive; and, per encoding, how many requests the budget admits at once.
 */
import autocannon from 'autocannon';
import { peakRss, percentile, probeLiveness, showServerErrors, startServer, statuses } from './harness.js';

const MiB = 2 ** 20;
const CLIENTS = 16;

export interface MemoryScenario {
  readonly workers: number;
  readonly duration: number;
  readonly encoding: string;
  readonly budgetBytes: number;
  /** The body's size to aim at, in bytes. */
  readonly bodyBytes: number;
}

/** Short values (`-1.25`), as a client's own data would be: about 6 bytes per element in JSON. */
const values = (n: number) => Float32Array.from({ length: n }, (_, i) => ((i % 41) - 20) / 8);
const weight = values(16 * 16);

/**
 * A conv2d forward (16 -> 16 channels, 1x1: its answer as large as its input) with an input of
 * about `bytes` in `encoding`, within the default MAX_ELEMENTS.
 */
export function requestOf(
  encoding: string,
  bytes: number,
): { path: string; body: Buffer; headers: Record<string, string> } {
  const bytesPerElement = { json: 6, base64: 16 / 3, binary: 4 }[encoding];
  if (bytesPerElement === undefined) throw new Error(`--encoding is json, base64 or binary, not ${encoding}`);
  const side = Math.round(Math.sqrt(bytes / bytesPerElement / 16));
  const input = values(16 * side * side);
  const shape = [1, 16, side, side];
  if (encoding === 'binary') {
    const header = Buffer.from(
      JSON.stringify({
        parameters: { binary_data_output: true },
        inputs: [
          { name: 'input', shape, datatype: 'FP32', parameters: { binary_data_size: input.byteLength } },
          {
            name: 'weight',
            shape: [16, 16, 1, 1],
            datatype: 'FP32',
            parameters: { binary_data_size: weight.byteLength },
          },
        ],
      }),
    );
    return {
      path: '/v2/models/conv2d/infer',
      body: Buffer.concat([header, Buffer.from(input.buffer), Buffer.from(weight.buffer)]),
      headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(header.length) },
    };
  }
  const tensor = (t: Float32Array, s: number[]) =>
    encoding === 'json'
      ? { shape: s, data: Array.from(t) }
      : { shape: s, b64: Buffer.from(t.buffer).toString('base64') };
  return {
    path: '/v1/conv2d/forward',
    body: Buffer.from(JSON.stringify({ input: tensor(input, shape), weight: tensor(weight, [16, 16, 1, 1]) })),
    headers: { 'content-type': 'application/json' },
  };
}

export async function runMemoryScenario(opts: MemoryScenario): Promise<void> {
  const { path, body, headers } = requestOf(opts.encoding, opts.bodyBytes);
  const server = await startServer(opts.workers, { MEMORY_BUDGET_BYTES: String(opts.budgetBytes) });
  const idleRss = peakRss(server.pid);
  const probe = probeLiveness(server.url);
  // The budget's own view, sampled: how many requests, and bytes, it admitted at once.
  let peakRequests = 0;
  let peakSlots = 0;
  let peakAdmitted = 0;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const text = await fetch(`${server.url}/metrics`).then(
        (r) => r.text(),
        () => '',
      );
      peakRequests = Math.max(peakRequests, Number(/^convsvc_memory_admitted_requests (\d+)/m.exec(text)?.[1] ?? 0));
      peakAdmitted = Math.max(peakAdmitted, Number(/^convsvc_memory_admitted_bytes (\d+)/m.exec(text)?.[1] ?? 0));
      peakSlots = Math.max(peakSlots, Number(/^convsvc_pool_slots_taken (\d+)/m.exec(text)?.[1] ?? 0));
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  let missingRetryAfter = 0;
  const result = await autocannon({
    url: `${server.url}${path}`,
    method: 'POST',
    headers,
    body,
    connections: CLIENTS,
    duration: opts.duration,
    timeout: 120,
    setupClient: (client) =>
      client.on('headers', (h: { statusCode: number; headers: string[] }) => {
        if (h.statusCode === 503 && !h.headers.some((x) => /^retry-after$/i.test(x))) missingRetryAfter++;
      }),
  });
  sampling = false;
  await sampler;
  const live = await probe.stop();
  const peak = peakRss(server.pid);
  const alive = server.alive();
  const refusals = await fetch(`${server.url}/metrics`)
    .then((r) => r.text())
    .then((t) => Number(/^convsvc_memory_refusals_total (\d+)/m.exec(t)?.[1] ?? NaN));
  const { code: exitCode } = await server.stop();
  const counts = statuses(result);

  console.log(
    `load (memory): ${opts.duration} s, ${CLIENTS} clients, ${opts.encoding} bodies of ${(body.length / 1e6).toFixed(1)} MB, MEMORY_BUDGET_BYTES=${opts.budgetBytes / MiB} MiB, WORKERS=${opts.workers}, server ${server.url}`,
  );
  console.log(
    `  statuses: ${JSON.stringify(counts)}; 503s without Retry-After ${missingRetryAfter}; connection errors ${result.errors}, timeouts ${result.timeouts}; refused for memory ${refusals}`,
  );
  console.log(
    `  answered 200 ${((counts['200'] ?? 0) / opts.duration).toFixed(1)}/s; at once at most ${peakSlots} requests with their body whole (a slot), ${peakRequests} charged in all (receiving too), holding ${(peakAdmitted / MiB).toFixed(0)} MiB of the budget`,
  );
  console.log(
    `  /health/live: ${live.length} probes, p50 ${percentile(live, 50).toFixed(1)} ms, p99 ${percentile(live, 99).toFixed(1)} ms, max ${Math.max(...live).toFixed(1)} ms`,
  );
  console.log(
    `  server RSS: idle ${(idleRss / MiB).toFixed(0)} MiB, peak ${(peak / MiB).toFixed(0)} MiB = ${(peak / opts.budgetBytes).toFixed(2)} x the budget; exit code on SIGTERM ${exitCode}`,
  );

  const failures: string[] = [];
  const unexpected = Object.keys(counts).filter((c) => c !== '200' && c !== '503');
  if (unexpected.length > 0) failures.push(`statuses outside {200, 503}: ${unexpected.join(', ')}`);
  if (missingRetryAfter > 0) failures.push(`${missingRetryAfter} 503s without Retry-After`);
  if (result.errors + result.timeouts > 0) failures.push('connection errors or timeouts');
  if ((counts['200'] ?? 0) === 0) failures.push('nothing was admitted');
  if (peak > 1.3 * opts.budgetBytes) failures.push(`peak RSS ${(peak / MiB).toFixed(0)} MiB above 1.3 x the budget`);
  if (live.some((ms) => !Number.isFinite(ms))) failures.push('a liveness probe went unanswered');
  if (!alive) failures.push('the server died');
  if (exitCode !== 0) failures.push(`the server exited ${exitCode} on SIGTERM`);
  showServerErrors(server);
  if (failures.length > 0) {
    console.error(`FAILED: ${failures.join('; ')}`);
    process.exit(1);
  }
  console.log('  ok');
}
