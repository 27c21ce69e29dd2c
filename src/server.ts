/**
 * The process: read the configuration; with HTTP_PROCESSES above 1, become the primary of that
 * many server processes (src/cluster/primary.ts), each of which runs this file again. A server
 * process builds the app, listens, and on SIGTERM / SIGINT stops accepting, finishes what is in
 * flight, closes the pool and exits 0 — or, when the work in flight outlasts SHUTDOWN_GRACE_MS,
 * cancels it (503s) and exits 1.
 */
import cluster from 'node:cluster';
import { ClusterLink } from './cluster/link.js';
import { runPrimary } from './cluster/primary.js';
import { type Config, ConfigError, loadConfig } from './config.js';
import { applyRuntimeV8Flags } from './service-node-flags.js';

/** After the grace period, how long cancelled requests have to get their 503 out. */
const LAST_WORDS_MS = 1000;

async function main(): Promise<void> {
  applyRuntimeV8Flags();
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`convsvc: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  if (cluster.isPrimary && config.httpProcesses > 1) return runPrimary(config);
  await serve(config, cluster.isWorker ? new ClusterLink() : undefined);
}

async function serve(config: Config, link: ClusterLink | undefined): Promise<void> {
  // Imported here, not at the top: a primary never builds an app, and forks its processes sooner
  // for not loading one.
  const { buildApp } = await import('./app.js');
  const app = await buildApp(config, { cluster: link });

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    app.log.info({ signal, graceMs: config.shutdownGraceMs }, 'shutting down: finishing in-flight requests');
    let forced = false;
    // Past the grace period, the work still queued or running is cancelled: its clients get a
    // 503 with Retry-After (retry elsewhere) instead of a dropped connection. If even those
    // answers cannot be written within a last second, the process exits anyway.
    const grace = setTimeout(() => {
      forced = true;
      app.log.error(
        { graceMs: config.shutdownGraceMs },
        'shutdown grace period passed; cancelling the work still in flight',
      );
      app.pool.cancelAll();
      setTimeout(() => {
        app.grpc.forceShutdown();
        process.exit(1);
      }, LAST_WORDS_MS).unref();
    }, config.shutdownGraceMs);
    grace.unref();
    app.close().then(
      () => {
        clearTimeout(grace);
        app.log.info({ forced }, 'stopped');
        process.exit(forced ? 1 : 0);
      },
      (err: unknown) => {
        app.log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  // The primary is gone (killed outright): nobody will restart or stop this process, so it
  // drains and exits rather than serve on as an orphan.
  process.on('disconnect', () => stop('SIGTERM'));

  await app.listen({ port: config.port, host: config.host });
  if (config.grpcPort !== 0) {
    const port = await app.grpc.listen(config.grpcPort, config.host);
    app.log.info({ port }, 'gRPC (Open Inference Protocol) listening');
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`convsvc: failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
