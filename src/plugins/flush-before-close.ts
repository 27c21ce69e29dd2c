import type { ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

/** How long shutdown waits for answers already ended to leave their write buffers. */
export const FLUSH_BEFORE_CLOSE_MS = 2000;
const POLL_MS = 5;

/** An answer whose end has been written but is still in its socket's buffer. */
const flushing = (res: ServerResponse) => res.writableEnded && !res.writableFinished && !res.destroyed;

/**
 * Keeps shutdown from cutting answers short. `server.close()` first destroys every connection
 * Node takes for idle, and a connection whose answer has ended counts as idle even while that
 * answer still waits in the socket's write buffer: a 5.6 MB answer that ended just before the
 * server closed reached its client truncated (the SIGTERM test of test/process/server.test.ts, 2
 * runs in 10; traced to `closeIdleConnections` under `server.close`). The server's `close` waits,
 * for at most FLUSH_BEFORE_CLOSE_MS, until no answer is in that state, and closes in the same turn
 * of the event loop as its last look, so none can end in between.
 */
async function flushBeforeClose(app: FastifyInstance): Promise<void> {
  const answers = new Set<ServerResponse>();
  // One listener function for all answers: no closure per request.
  function forget(this: ServerResponse): void {
    answers.delete(this);
  }
  app.addHook('onSend', (_request, reply, payload, done) => {
    const res = reply.raw;
    if (!answers.has(res)) {
      answers.add(res);
      res.on('close', forget);
    }
    done(null, payload);
  });
  const server = app.server;
  const close = server.close.bind(server);
  server.close = ((callback?: (err?: Error) => void) => {
    const until = performance.now() + FLUSH_BEFORE_CLOSE_MS;
    const attempt = () => {
      if ([...answers].some(flushing) && performance.now() < until) setTimeout(attempt, POLL_MS);
      else close(callback);
    };
    attempt();
    return server;
  }) as typeof server.close;
}

/** Registered without encapsulation: it watches every answer of the app. */
export const flushBeforeClosePlugin = fp(flushBeforeClose, { name: 'flush-before-close' });
