import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { RETRY_AFTER_SECONDS, type KernelPool } from '../pool.js';
import { problemDocument } from '../problems.js';
import { PROBLEM_CONTENT_TYPE } from './error-handler.js';

export interface AdmissionOptions {
  readonly pool: KernelPool;
  /** URL prefixes of the op routes: only their requests take a slot. */
  readonly prefixes: readonly string[];
}

/** Whether a request asks for kernel work (an op route), as opposed to health, metrics or docs. */
export const isOpRequest = (request: FastifyRequest, prefixes: readonly string[]): boolean =>
  request.method === 'POST' && prefixes.some((p) => request.url.startsWith(p));

/**
 * Admission control: an op request takes one of the pool's slots before its body is read, or is
 * refused with 503 + Retry-After (the pool's ProblemError). The slot is given back when the
 * answer has been written or the connection has closed, whichever comes first, so a client that
 * never reads its answer keeps holding one slot, not an unbounded number of them.
 */
async function admission(app: FastifyInstance, opts: AdmissionOptions): Promise<void> {
  // A client that asks `Expect: 100-continue` (curl does for bodies over 1 MiB) is told 503
  // before it sends its body when the service is saturated, so a refusal costs no body bytes;
  // otherwise it is told to go on and its request takes the usual path below.
  app.server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    const op = req.method === 'POST' && opts.prefixes.some((p) => (req.url ?? '').startsWith(p));
    if (op && opts.pool.saturated) {
      const requestId = randomUUID();
      const detail = opts.pool.closing ? 'the service is shutting down' : 'the work queue is full; retry later';
      res.writeHead(503, {
        'content-type': PROBLEM_CONTENT_TYPE,
        'retry-after': RETRY_AFTER_SECONDS,
        'x-request-id': requestId,
        connection: 'close',
      });
      res.end(JSON.stringify(problemDocument('unavailable', `${detail} (refused before the body was sent)`, requestId)));
      return;
    }
    res.writeContinue();
    app.server.emit('request', req, res);
  });

  app.addHook('onRequest', (request, reply, done) => {
    if (!isOpRequest(request, opts.prefixes)) return done();
    // Refused before its body is read: Node drains the body (the connection stays usable and the
    // client reads its 503), but nothing is parsed or decoded.
    let release: () => void;
    try {
      release = opts.pool.reserve();
    } catch (err) {
      return done(err as Error);
    }
    reply.raw.once('close', release);
    done();
  });
}

/** Registered without encapsulation: it applies to every route of the app. */
export const admissionPlugin = fp(admission, { name: 'admission' });
