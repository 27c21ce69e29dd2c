/**
 * The process: read the configuration, build the app, listen, and on SIGTERM / SIGINT stop
 * accepting, finish what is in flight, close the pool and exit 0 — or, when the work in flight
 * outlasts SHUTDOWN_GRACE_MS, cancel it (503s) and exit 1.
 */
import { buildApp } from './app.js';
import { ConfigError, loadConfig } from './config.js';

/** After the grace period, how long cancelled requests have to get their 503 out. */
const LAST_WORDS_MS = 1000;

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`convsvc: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const app = await buildApp(config);

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
      app.log.error({ graceMs: config.shutdownGraceMs }, 'shutdown grace period passed; cancelling the work still in flight');
      app.pool.cancelAll();
      setTimeout(() => process.exit(1), LAST_WORDS_MS).unref();
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

  await app.listen({ port: config.port, host: config.host });
}

main().catch((err: unknown) => {
  process.stderr.write(`convsvc: failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
