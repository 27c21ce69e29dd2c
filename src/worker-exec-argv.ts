import { Worker } from 'node:worker_threads';

/**
 * The Node flags the kernel threads start with: the process's own, less those a worker thread
 * refuses, plus one of ours.
 *
 * Node refuses V8 and per-process options in a worker's execArgv (`--max-old-space-size`,
 * `--initial-heap-size`, `--title`...), and the pool would then fail to start: the service would
 * not come up at all under `node --max-old-space-size=4096`. Those options act on the whole
 * process anyway (or, for heap limits, on the main thread, which is what they are given for).
 */

/**
 * Piscina loads a worker's module with require() first. On Node versions where require() can load
 * ES modules, its start-up preload and a first task racing to load the module can abort the whole
 * process (a fatal V8 error, seen under test load). Without require(esm) it takes its import()
 * path, which loads a module once however many ask.
 */
const NO_REQUIRE_ESM = '--no-experimental-require-module';

const INVALID_EXEC_ARGV = 'ERR_WORKER_INVALID_EXEC_ARGV';

/**
 * The flags of `flags` a worker thread accepts, as Node itself judges them: a Worker given them
 * all either starts (it is ended at once) or refuses, naming the flags it refuses.
 */
export function acceptedByWorkers(flags: readonly string[]): string[] {
  if (flags.length === 0) return [];
  try {
    void new Worker('', { eval: true, execArgv: [...flags] }).terminate();
    return [...flags];
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== INVALID_EXEC_ARGV) throw err;
    // "Initiated Worker with invalid execArgv flags: --a=1, --b"
    const message = (err as Error).message;
    const refused = new Set(message.slice(message.indexOf(': ') + 2).split(', '));
    return flags.filter((f) => !refused.has(f));
  }
}

let cached: string[] | undefined;

/** This process's flags for its kernel threads; worked out once. */
export function workerExecArgv(): string[] {
  cached ??= [
    ...acceptedByWorkers(process.execArgv),
    ...(process.allowedNodeEnvironmentFlags.has(NO_REQUIRE_ESM) ? [NO_REQUIRE_ESM] : []),
  ];
  return [...cached];
}
