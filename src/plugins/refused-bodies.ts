import type { IncomingMessage } from 'node:http';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { piecesRefusal } from '../body-pieces.js';
import { REFUSAL_LINGER_MS } from '../client-errors.js';
import type { Uploads } from '../uploads.js';

/**
 * The bodies of requests answered before they were read: refused by admission, load shedding,
 * the rate limit or an API key check, or too large by their Content-Length.
 *
 * HTTP/1.1 has to read such a body to reach the next request on the connection, and closing
 * instead would make most clients lose the 503 they were sent. Node reads it as fast as it
 * arrives, so 64 clients resending 5 MB bodies kept the main thread discarding ~1.5 GB/s and
 * health probes waited hundreds of ms. Here they are read at a bounded rate shared by all of them
 * (the clients wait on TCP flow control, not on our CPU); one beyond MAX_BODY_BYTES, cut into
 * pieces too fine to read at a bounded cost (src/body-pieces.ts), or still being read when the
 * service stops, has its connection closed.
 */
export interface RefusedBodiesOptions {
  /** Bytes per second of refused bodies read, all connections together. */
  readonly bytesPerSecond: number;
  /** A refused body longer than this closes its connection. */
  readonly maxBodyBytes: number;
  /**
   * Watches each refused body's pace and deadline like any other (src/uploads.ts): one that comes
   * too slowly has its connection closed, so refusals hold no socket for as long as a client likes.
   */
  readonly uploads: Uploads;
  readonly deadlineMs: number;
}

/** What the refused bodies of all connections may read per second, together. */
export const REFUSED_BODY_BYTES_PER_SECOND = 64 * 2 ** 20;
/** Credit a quiet shaper keeps, so a single refusal is read at once. */
const BURST_MS = 50;

/**
 * A shared rate limit over byte counts, as a virtual clock: each read pushes the clock by its
 * bytes' share of a second, and a reader waits for as long as the clock runs ahead of real time.
 */
export class ByteShaper {
  readonly #bytesPerMs: number;
  #clock = -Infinity;

  constructor(bytesPerSecond: number) {
    this.#bytesPerMs = bytesPerSecond / 1000;
  }

  /** Counts `bytes` read now; the milliseconds the reader should now pause for (0: go on). */
  take(bytes: number, now = performance.now()): number {
    this.#clock = Math.max(this.#clock, now - BURST_MS) + bytes / this.#bytesPerMs;
    return Math.max(0, this.#clock - now);
  }
}

/**
 * Reads `req`'s remaining body and throws it away, pausing as `shaper` says; past `maxBytes` the
 * connection is closed, and in pieces too fine it is read no more and closed a moment later. The
 * first read(0) marks the message as consumed: otherwise Node, once the answer is sent, drops
 * this listener and drains at full speed.
 */
export function discardBody(
  req: IncomingMessage,
  shaper: ByteShaper,
  maxBytes: number,
  onDone: () => void,
  watch?: { uploads: Uploads; deadlineMs: number },
): void {
  // A message whose answer is sent is no longer the server's to close: its socket's close is what ends it.
  const socket = req.socket;
  const length = Number(req.headers['content-length']);
  const declared = Number.isFinite(length) ? length : Infinity;
  let read = 0;
  let pieces = 0;
  let paused: NodeJS.Timeout | undefined;
  const upload = watch?.uploads.start(performance.now() + watch.deadlineMs, () => socket.destroy());
  const done = () => {
    clearTimeout(paused);
    upload?.end();
    req.off('data', onData);
    req.off('end', done);
    socket.off('close', done);
    onDone();
  };
  const onData = (chunk: Buffer) => {
    read += chunk.length;
    upload?.progress(read);
    if (read > maxBytes) {
      socket.destroy();
      return;
    }
    if (piecesRefusal(++pieces, read)) {
      // Not read on: the client is held by TCP flow control while it reads its answer.
      req.off('data', onData);
      socket.pause();
      setTimeout(() => socket.destroy(), REFUSAL_LINGER_MS).unref();
      return;
    }
    const wait = shaper.take(chunk.length);
    // After the last chunk there is nothing left on the socket to hold back, and a pause would
    // only keep this message open while the connection's next requests go on.
    if (wait > 0 && read < declared) {
      req.pause();
      paused = setTimeout(() => req.resume(), wait);
    }
  };
  req.on('data', onData);
  req.once('end', done);
  socket.once('close', done);
  req.read(0);
}

async function refusedBodies(app: FastifyInstance, opts: RefusedBodiesOptions): Promise<void> {
  const shaper = new ByteShaper(opts.bytesPerSecond);
  const draining = new Set<IncomingMessage>();
  // A callback hook: it runs on every answer, and an async one would cost each a promise.
  app.addHook('onSend', (request, _reply, payload, done) => {
    const req = request.raw;
    if (!req.complete && !req.readableEnded && !draining.has(req)) {
      draining.add(req);
      discardBody(req, shaper, opts.maxBodyBytes, () => draining.delete(req), opts);
    }
    done(null, payload);
  });
  // Their answers are sent: a body still arriving must not hold up the shutdown.
  app.addHook('preClose', async () => {
    for (const req of draining) req.socket.destroy();
  });
}

/** Registered without encapsulation: it applies to every route of the app. */
export const refusedBodiesPlugin = fp(refusedBodies, { name: 'refused-bodies' });
