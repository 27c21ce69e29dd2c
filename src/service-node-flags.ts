/**
 * The Node flags the service is started with: by `npm start`, by the Dockerfile's CMD, and by the
 * bench and load scripts, which measure it as deployed (a test holds the first two to this list).
 *
 * `--initial-heap-size=64` (MB): V8 sizes the main thread's heap by the JavaScript objects alive,
 * and a request with binary tensors (/v2) leaves few, while it churns ~20 MB of buffers that count
 * against that heap's limit; with the default small start, V8 ran a full collection for almost
 * every large request (47 in 60) and the /v2 binary DCGAN forward took 42-46 ms; from 64 MB, 32
 * full collections in 120 requests and 31-34 ms. Idle RSS does not change (pages are used only
 * as the heap fills).
 *
 * `--no-allocation-site-pretenuring`: V8 allocates objects straight into the old generation from
 * the code sites whose objects it has seen survive, and large requests (whose parse, answer and
 * buffers live for tens of milliseconds) teach it that of sites every request shares. Small
 * requests then fill the old generation with garbage: after 50 DCGAN requests, 8 s of the small
 * op ran 20 full collections and scavenges of ~3.3 ms; without pretenuring, 5 and ~0.9 ms. Without
 * pretenuring the small op went from 5,265-5,467 to 5,860-6,100 requests/s (fresh, and after 50
 * DCGAN requests; p99 7-8 -> 5-6 ms) and, in `npm run bench:http`, from ~4,700 to ~5,300-5,800;
 * DCGAN latency did not move. (A larger nursery, `--max-semi-space-size=32`, helped a fresh
 * process as much but not one that had served large requests, and held ~25 MB more.)
 *
 * Worker threads refuse V8 flags in their execArgv; src/worker-exec-argv.ts leaves these out of
 * theirs.
 */
export const SERVICE_NODE_FLAGS: readonly string[] = ['--initial-heap-size=64', '--no-allocation-site-pretenuring'];
