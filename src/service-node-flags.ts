import { setFlagsFromString } from 'node:v8';

/**
 * The Node flags the service is started with: by `npm start`, by the Dockerfile's CMD, and by the
 * bench and load scripts, which measure it as deployed (a test holds the first two to this list).
 *
 * Both measured again on Node 26.12.1 (the image's Node) and kept: each still pays there. A fresh
 * service, 2 workers, this 2-core machine; ratios within one run (it is shared and noisy).
 *
 * `--initial-heap-size=64` (MB): V8 sizes the main thread's heap by the JavaScript objects alive,
 * and a request with binary tensors (/v2) leaves few, while it churns ~20 MB of buffers that count
 * against that heap's limit; with the default small start, V8 runs a full collection for almost
 * every large request. The /v2 binary DCGAN forward, 60 sequential requests after 20: without the
 * flag 48-50 main-thread full collections and a median of 27-41 ms; with it 21-24 and 18-22 ms
 * (0.54-0.66x within each round). A service that had first served 7 s of the small op had grown
 * its heap already, and there the medians were alike (28-33 ms). On Node 20 the same run gave
 * 38-43 -> 10-11 collections and 29-31 -> 16-17 ms: on 26 the flag saves half the collections
 * rather than three in four, for a like latency gain. (Idle RSS did not change on Node 20, pages
 * being used only as the heap fills; not measured again.)
 *
 * `--no-allocation-site-pretenuring`: V8 allocates objects straight into the old generation from
 * the code sites whose objects it has seen survive, and large requests (whose parse, answer and
 * buffers live for tens of milliseconds) teach it that of sites every request shares. Small
 * requests then fill the old generation with garbage. The small op (autocannon, 16 connections,
 * 5 s after 2 s of warm-up) on Node 26, with pretenuring: 6-7 full collections, scavenges of
 * 2.3-2.9 ms, p99 7-10 ms; without: 0 full collections, scavenges of 0.6-0.9 ms, p99 6-7 ms; with
 * both flags against none, requests/s 1.07-1.09x on a fresh service (~5,500-5,650 against
 * ~5,100-5,250) and 1.06-1.09x after 60 DCGAN requests (~5,350-5,550 against ~5,000-5,250; full
 * collections 8-10 -> 4-9). The heap flag alone does not move the small op. (On Node 20: 20 -> 5
 * full collections, ~3.3 -> ~0.9 ms scavenges, ~5,300 -> ~6,000 requests/s. A larger nursery,
 * `--max-semi-space-size=32`, helped a fresh Node 20 process as much but not one that had served
 * large requests, and held ~25 MB more.)
 *
 * Worker threads refuse V8 flags in their execArgv; src/worker-exec-argv.ts leaves these out of
 * theirs.
 */
export const SERVICE_NODE_FLAGS: readonly string[] = ['--initial-heap-size=64', '--no-allocation-site-pretenuring'];

/**
 * `--external-memory-accounted-in-global-limit`: V8 otherwise starts a full collection whenever
 * the bytes held outside its heap (every Buffer and ArrayBuffer: request bodies, decoded tensors,
 * the copies handed to kernel threads, answers) have grown 64 MiB since the last one, whatever
 * the heap's size. A DCGAN request moves ~20-30 MB of such buffers, so a process serving them ran
 * a full collection every two to four requests, most of it marking a heap of 25-50 MB whose
 * objects had not changed; with the flag those bytes count toward the heap's own growing limit
 * instead. Measured on Node 26.12.1 (V8 14.6; see BENCHMARKS.md, "Collections"). The flag is
 * set at start-up, not on the command line, because a V8 without it (Node 20's 11.3) refuses to
 * start when given it; an explicit `--[no-]external-memory-accounted-in-global-limit` on the
 * command line wins.
 */
const RUNTIME_V8_FLAG = 'external-memory-accounted-in-global-limit';
/** The first V8 major the flag was measured on; earlier ones are left as they are. */
const RUNTIME_V8_FLAG_SINCE = 14;

/** Sets the runtime V8 flag where this V8 has it and the command line did not say otherwise; returns whether it did. */
export function applyRuntimeV8Flags(
  v8Version = process.versions.v8,
  execArgv: readonly string[] = process.execArgv,
  set: (flags: string) => void = setFlagsFromString,
): boolean {
  if (Number(v8Version.split('.')[0]) < RUNTIME_V8_FLAG_SINCE) return false;
  const named = (arg: string) => arg.replaceAll('_', '-').replace(/^--(no-)?/, '') === RUNTIME_V8_FLAG;
  if (execArgv.some(named)) return false;
  set(`--${RUNTIME_V8_FLAG}`);
  return true;
}
