/**
 * `npm run build && node dist/scripts/load/json-number-bodies.js [--clients 4 --mib 32 --duration 20]`:
 * what large JSON-number bodies do to the event loop. A real server process takes `clients`
 * loops of /v1/conv2d/forward bodies of about `mib` MiB of JSON numbers while /health/live is
 * probed from a thread of its own; then it answers two hostile bodies (an input of 4 million
 * "x" values, and 200,000 unknown fields), whose time and size are printed. `--skip-hostile`
 * leaves those out, `--duration 0` the load. Figures only: the machine decides them, so nothing
 * here is a pass or a fail.
 */
import { parseArgs } from 'node:util';
import { percentile, probeLiveness, startServer } from './harness.js';

const MiB = 2 ** 20;
const { values } = parseArgs({
  options: {
    clients: { type: 'string', default: '4' },
    mib: { type: 'string', default: '32' },
    duration: { type: 'string', default: '20' },
    'skip-hostile': { type: 'boolean', default: false },
  },
});
const clients = Number(values.clients);
const durationMs = Number(values.duration) * 1000;

/** A conv2d body of about `mib` MiB: a square float32 input of 20-character numbers, a 1x1 kernel. */
function numberBody(mib: number): string {
  const side = Math.ceil(Math.sqrt((mib * MiB) / 20));
  const data = Array.from({ length: side * side }, (_, i) => ((i * 7919) % 100003) / 100003 + 1e-9);
  return JSON.stringify({
    input: { shape: [1, 1, side, side], data },
    weight: { shape: [1, 1, 1, 1], data: [0.5] },
    outputEncoding: 'base64',
  });
}

async function post(url: string, body: string): Promise<{ status: number; bytes: number; ms: number }> {
  const t0 = performance.now();
  const res = await fetch(`${url}/v1/conv2d/forward`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
  });
  const bytes = (await res.arrayBuffer()).byteLength;
  return { status: res.status, bytes, ms: performance.now() - t0 };
}

async function loadPhase(url: string, body: string): Promise<void> {
  console.log(
    `body: ${(Buffer.byteLength(body) / MiB).toFixed(1)} MiB of JSON numbers, ${clients} clients, ${durationMs / 1000} s`,
  );
  const probe = probeLiveness(url);
  const statuses: Record<number, number> = {};
  const deadline = Date.now() + durationMs;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (Date.now() < deadline) {
        const r = await post(url, body);
        statuses[r.status] = (statuses[r.status] ?? 0) + 1;
      }
    }),
  );
  const latencies = await probe.stop();
  console.log(`answers: ${JSON.stringify(statuses)}`);
  console.log(
    `/health/live: ${latencies.length} probes, p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms, max ${Math.max(...latencies).toFixed(1)} ms`,
  );
}

/** Two bodies within the limits that once took the process down: the time and size of their answers. */
async function hostilePhase(url: string): Promise<void> {
  // The smaller first: the other may end the process.
  const hostile = {
    '200k unknown fields': JSON.stringify({
      input: { shape: [1, 1, 1, 1], data: [1] },
      weight: { shape: [1, 1, 1, 1], data: [1] },
      ...Object.fromEntries(Array.from({ length: 200_000 }, (_, i) => [`f${i}`, 0])),
    }),
    '4M "x" values': JSON.stringify({
      input: { shape: [1, 1, 2000, 2000], data: new Array(4_000_000).fill('x') },
      weight: { shape: [1, 1, 1, 1], data: [1] },
    }),
  };
  for (const [name, text] of Object.entries(hostile)) {
    const t0 = performance.now();
    const r = await post(url, text).catch(() => ({ status: 0, bytes: 0, ms: performance.now() - t0 }));
    console.log(
      `${name} (${(Buffer.byteLength(text) / MiB).toFixed(1)} MiB): status ${r.status}, ${r.bytes} bytes of answer, ${r.ms.toFixed(0)} ms`,
    );
  }
}

const server = await startServer(1, { MAX_QUEUE: '64', MAX_BODY_BYTES: String(64 * MiB) });
try {
  if (durationMs > 0) await loadPhase(server.url, numberBody(Number(values.mib)));
  if (!values['skip-hostile']) await hostilePhase(server.url);
} finally {
  await server.stop();
}
