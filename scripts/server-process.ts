/**
 * The built server as a real process, for the tests, `npm run load` and `npm run fuzz` alike: one
 * way to start it, learn its address, read its logs and stop it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface RunningServer {
  readonly child: ChildProcess;
  readonly url: string;
  readonly pid: number;
  /** Every line the process wrote to stdout, parsed where it was JSON (pino), unless `keepLogs` is false. */
  readonly logs: Record<string, unknown>[];
  /** Its error and fatal log lines (pino levels 50 and 60), always kept. */
  readonly errorLines: string[];
  /** Resolves once the process has ended. */
  readonly exited: Promise<Exit>;
  /** What it wrote to stderr (the last 64 KiB). */
  stderr(): string;
  alive(): boolean;
  /** SIGTERM, then its exit. */
  stop(): Promise<Exit>;
}

export interface StartOptions {
  /** The script to run; the built server by default. */
  readonly entry?: string;
  /** The project root (of the built tree this module runs from) by default. */
  readonly cwd?: string;
  readonly nodeArgs?: readonly string[];
  readonly timeoutMs?: number;
  /** Wait for /health/ready too: with several server processes the first to listen is not the service. */
  readonly waitReady?: boolean;
  /** False for long runs whose info lines would pile up (a load run logs every request). */
  readonly keepLogs?: boolean;
  /** Pass stderr through to this process's rather than keep it (stderr() is then empty). */
  readonly inheritStderr?: boolean;
}

const STDERR_KEPT = 64 * 1024;

// A server left running would keep the test run, or the script, alive: whatever ends this
// process takes its servers with it.
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/**
 * Starts `node [nodeArgs] <entry>` on a free loopback port and waits until it listens. One
 * server process and one kernel thread unless `env` says otherwise.
 */
export async function startServer(env: Record<string, string> = {}, opts: StartOptions = {}): Promise<RunningServer> {
  const {
    entry = fileURLToPath(new URL('../src/server.js', import.meta.url)),
    cwd = fileURLToPath(new URL('../..', import.meta.url)),
    nodeArgs = [],
    timeoutMs = 20_000,
    waitReady = false,
    keepLogs = true,
    inheritStderr = false,
  } = opts;
  const child = spawn(process.execPath, [...nodeArgs, entry], {
    cwd,
    env: {
      PATH: process.env.PATH ?? '',
      HOST: '127.0.0.1',
      PORT: '0',
      HTTP_PROCESSES: '1',
      WORKERS: '1',
      LOG_LEVEL: 'info',
      // gRPC off unless asked for: a fixed port would be shared by the servers run at once.
      GRPC_PORT: '0',
      ...env,
    },
    stdio: ['ignore', 'pipe', inheritStderr ? 'inherit' : 'pipe'],
  });
  running.add(child);
  const logs: Record<string, unknown>[] = [];
  const errorLines: string[] = [];
  let errText = '';
  child.stderr?.on('data', (d: Buffer) => {
    errText = (errText + d.toString()).slice(-STDERR_KEPT);
  });
  const exited = new Promise<Exit>((resolve) =>
    child.once('exit', (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
    }),
  );
  const listening = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server did not listen within ${timeoutMs} ms: ${errText}`));
    }, timeoutMs);
    let buffered = '';
    child.stdout!.on('data', (d: Buffer) => {
      buffered += d.toString();
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        let entry: Record<string, unknown>;
        try {
          entry = JSON.parse(line) as Record<string, unknown>;
        } catch {
          if (keepLogs) logs.push({ raw: line });
          continue;
        }
        if (keepLogs) logs.push(entry);
        if (typeof entry.level === 'number' && entry.level >= 50) errorLines.push(line.slice(0, 500));
        const m = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(String(entry.msg));
        if (m) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      }
    });
    void exited.then(({ code }) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${code}) before listening: ${errText}`));
    });
  });
  const url = await listening;
  if (waitReady) await untilReady(url, child, timeoutMs);
  return {
    child,
    url,
    pid: child.pid!,
    logs,
    errorLines,
    exited,
    stderr: () => errText,
    alive: () => child.exitCode === null && child.signalCode === null,
    stop: () => {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

async function untilReady(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (
    !(await fetch(`${url}/health/ready`).then(
      (r) => r.ok,
      () => false,
    ))
  ) {
    if (Date.now() > until) {
      child.kill('SIGKILL');
      throw new Error(`server at ${url} did not become ready within ${timeoutMs} ms`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}
