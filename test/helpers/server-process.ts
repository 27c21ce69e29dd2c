import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { projectRoot } from './paths.js';

export interface RunningServer {
  readonly child: ChildProcess;
  readonly url: string;
  /** Every line the process wrote to stdout, as parsed JSON where it was (pino logs). */
  readonly logs: Record<string, unknown>[];
  /** Resolves with the exit code (or signal) once the process has ended. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr(): string;
}

/**
 * Starts `node [nodeArgs] <entry>` as a real process on a free loopback port and waits until it
 * listens (one server process unless HTTP_PROCESSES says otherwise). The entry defaults to the built server next to this helper; `cwd` to the project.
 */
export async function startServer(
  env: Record<string, string> = {},
  {
    entry = fileURLToPath(new URL('../../src/server.js', import.meta.url)),
    cwd = projectRoot,
    timeoutMs = 20_000,
    nodeArgs = [] as string[],
  } = {},
): Promise<RunningServer> {
  const child = spawn(process.execPath, [...nodeArgs, entry], {
    cwd,
    env: {
      PATH: process.env.PATH ?? '',
      HOST: '127.0.0.1',
      PORT: '0',
      HTTP_PROCESSES: '1',
      WORKERS: '1',
      LOG_LEVEL: 'info',
      // gRPC off unless a test asks for it: a fixed port would be shared by the tests run at once.
      GRPC_PORT: '0',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Record<string, unknown>[] = [];
  let errText = '';
  child.stderr!.on('data', (d: Buffer) => (errText += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      // A server left running would keep the test process, and the whole run, alive.
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
        try {
          const entry = JSON.parse(line) as Record<string, unknown>;
          logs.push(entry);
          const m = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(String(entry.msg));
          if (m) {
            clearTimeout(timer);
            resolve(m[1]);
          }
        } catch {
          logs.push({ raw: line });
        }
      }
    });
    void exited.then(({ code }) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${code}) before listening: ${errText}`));
    });
  });
  return { child, url, logs, exited, stderr: () => errText };
}
