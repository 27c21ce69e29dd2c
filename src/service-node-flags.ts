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
 * `--max-semi-space-size=32` (MB, V8's default 16): every request leaves short-lived objects
 * (the parsed body, strings, closures, promises) in the young generation, which a larger
 * nursery collects less often while nearly all of them are already dead. The small op went from
 * 4,560-4,865 to 5,256-5,533 requests/s and its p99 from 9-10 to 5-7 ms (three A/B pairs), for
 * ~25-30 MB more RSS under load; 64 and 128 MB gained nothing more and held ~75 MB more.
 *
 * Worker threads refuse V8 flags in their execArgv; src/worker-exec-argv.ts leaves these out of
 * theirs.
 */
export const SERVICE_NODE_FLAGS: readonly string[] = ['--initial-heap-size=64', '--max-semi-space-size=32'];
