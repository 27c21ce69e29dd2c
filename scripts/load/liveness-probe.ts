/**
 * The liveness prober of `npm run load`, in a thread of its own: GET /health/live every 50 ms
 * until told to stop, then posts the latencies (ms; Infinity for a failed probe). A kubelet
 * probes from another process; probing from the load generator's own event loop, which is busy
 * writing hundreds of MB/s, would count the generator's delays as the server's.
 */
import { parentPort, workerData } from 'node:worker_threads';

const { url } = workerData as { url: string };
const latencies: number[] = [];
let running = true;
parentPort!.once('message', () => (running = false));

while (running) {
  const t0 = performance.now();
  const res = await fetch(`${url}/health/live`, { signal: AbortSignal.timeout(10_000) }).catch(() => undefined);
  if (res) await res.arrayBuffer();
  latencies.push(res?.status === 200 ? performance.now() - t0 : Infinity);
  await new Promise((r) => setTimeout(r, 50));
}
parentPort!.postMessage(latencies);
