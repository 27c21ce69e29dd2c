/**
 * `npx tsx scripts/load/memory-factors.ts` (after `npm run build`): what one request costs in
 * resident memory, per encoding, on this runtime: the figures behind src/memory-model.ts. For
 * each encoding a fresh server (WORKERS=2, a budget too large to refuse anything) gets 4
 * concurrent conv2d requests of ~24 MB (16 -> 16 channels, 1x1: the answer is as large as the
 * input) three times over; the peak RSS above idle, divided by the bytes the budget
 * charged for them, says whether the model over- or under-charges.
 */
import { request } from 'node:http';
import { peakRss, startServer } from './harness.js';
import { requestOf } from './memory-scenario.js';

const MiB = 2 ** 20;
const CONCURRENT = 4;

function post(url: string, path: string, body: Buffer, headers: Record<string, string>): Promise<number> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const r = request(
      { host: hostname, port, path, method: 'POST', headers: { ...headers, 'content-length': String(body.length) } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    r.on('error', reject);
    r.end(body);
  });
}

for (const encoding of ['json', 'base64', 'binary']) {
  const { path, body, headers } = requestOf(encoding, 24e6);
  const server = await startServer(2, { MEMORY_BUDGET_BYTES: String(2 ** 40) });
  const idle = peakRss(server.pid);
  let charged = 0;
  const sampler = setInterval(() => {
    void fetch(`${server.url}/metrics`)
      .then((r) => r.text())
      .then(
        (t) => {
          charged = Math.max(charged, Number(/^convsvc_memory_admitted_bytes (\d+)/m.exec(t)?.[1] ?? 0));
        },
        () => {},
      );
  }, 20);
  const statuses: number[] = [];
  for (let round = 0; round < 3; round++)
    statuses.push(
      ...(await Promise.all(Array.from({ length: CONCURRENT }, () => post(server.url, path, body, headers)))),
    );
  clearInterval(sampler);
  const peak = peakRss(server.pid);
  await server.stop();
  const perRequest = (peak - idle) / CONCURRENT;
  console.log(
    `${encoding.padEnd(6)} body ${(body.length / 1e6).toFixed(1)} MB: statuses ${[...new Set(statuses)].join(',')}; peak RSS ${(peak / MiB).toFixed(0)} MiB (idle ${(idle / MiB).toFixed(0)}), ` +
      `${(perRequest / MiB).toFixed(0)} MiB a request = ${(perRequest / body.length).toFixed(2)} x its body; the budget charged at most ${(charged / MiB).toFixed(0)} MiB for ${CONCURRENT} = ${(charged / (peak - idle)).toFixed(2)} x what they held`,
  );
}
