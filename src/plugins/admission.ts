import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Deliveries, Delivery, Recipient } from '../deliveries.js';
import { expectedCost, leastCost } from '../memory-model.js';
import { RETRY_AFTER_SECONDS } from '../pool.js';
import { ProblemError } from '../problems.js';
import { type AdmissionContext, RequestAdmission } from '../request-admission.js';
import { isOpRoute } from '../route-guards.js';
import { HEADER_LENGTH } from '../v2/binary.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The admission of an op request (src/request-admission.ts); null on every other route. */
    admission: RequestAdmission | null;
  }
}

/** How long bodies still arriving at shutdown may take to finish before they are refused. */
export const SHUTDOWN_UPLOAD_GRACE_MS = 1000;

/** Whether a body is /v2's binary extension (raw tensors after a JSON header), not JSON throughout. */
const isBinary = (req: IncomingMessage) => req.headers[HEADER_LENGTH] !== undefined;

/** A response's admission and its answer's delivery, for its 'close' listener: one function for all, no closure each. */
const ADMISSION = Symbol('admission');
const DELIVERY = Symbol('delivery');
type Admitted = ServerResponse & { [ADMISSION]?: RequestAdmission; [DELIVERY]?: Delivery };

function release(this: Admitted): void {
  this[DELIVERY]?.end();
  this[ADMISSION]?.release();
}

/**
 * An answer over HTTP/1.1: one at a time on its socket, so what the socket has queued and not
 * yet handed to the kernel is what is left of it.
 */
class HttpRecipient implements Recipient {
  constructor(
    readonly res: ServerResponse,
    readonly log: FastifyBaseLogger,
  ) {}
  pending(): number {
    return this.res.socket?.writableLength ?? 0;
  }
  cut(why: string): void {
    this.log.info({ reason: why }, 'answer not taken: connection closed');
    this.res.destroy();
  }
}

const expectsContinue = (req: IncomingMessage) => {
  const expect = req.headers.expect;
  return expect !== undefined && /^100-continue$/i.test(expect);
};

/**
 * Admission control for the routes that run kernels, decided on the route that matched:
 * - before the body is read, a request is refused (503 + Retry-After) when the service is
 *   shutting down, every slot is taken, or the memory budget has no room now for what its stated
 *   body is expected to hold (413 if even the cheapest encoding never could): a refusal costs no
 *   body bytes;
 * - while the body arrives, it is charged its expected cost in proportion and its pace is
 *   watched (src/request-admission.ts, src/uploads.ts);
 * - once the body is whole and valid, it takes a pool slot.
 * What it holds is given back when the answer has been written or the connection has closed;
 * an answer its client does not take within the deadline, or takes too slowly, has its
 * connection closed (src/deliveries.ts).
 */
async function admission(app: FastifyInstance, opts: { ctx: AdmissionContext; deliveries: Deliveries }): Promise<void> {
  const { ctx, deliveries } = opts;
  app.decorateRequest('admission', null);
  // A client that asks `Expect: 100-continue` (curl does for bodies over 1 MiB) is told to go on
  // only once the route it matched has admitted it (preParsing below); a refusal reaches it
  // before it has sent its body.
  app.server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => app.server.emit('request', req, res));

  app.addHook('onRequest', (request, reply, done) => {
    if (!isOpRoute(request)) return done();
    const length = Number(request.headers['content-length']);
    const declared = Number.isSafeInteger(length) && length > 0 ? length : 0;
    // A body of unstated length (chunked) is charged per byte at the same rate as one of 1 byte.
    const expected = { bytes: expectedCost(declared || 1, isBinary(request.raw)), declared: declared || 1 };
    try {
      ctx.pool.refuseIfFull();
      if (declared > 0) {
        const what = `a body of ${declared} bytes`;
        ctx.budget.check(leastCost(declared), what);
        // Refused now what cannot fit now, as JSON numbers; what never could may still as base64.
        if (expected.bytes <= ctx.budget.total) ctx.budget.check(expected.bytes, what);
      }
    } catch (err) {
      // Its body will not be read: a client waiting to send it should not keep the connection.
      if (expectsContinue(request.raw)) reply.header('connection', 'close');
      return done(err as Error);
    }
    const admitted = new RequestAdmission(ctx, expected);
    request.admission = admitted;
    const res = reply.raw as Admitted;
    res[ADMISSION] = admitted;
    res.on('close', release);
    done();
  });

  app.addHook('preParsing', (request, reply, payload, done) => {
    if (expectsContinue(request.raw) && !reply.raw.headersSent) reply.raw.writeContinue();
    done(null, payload);
  });

  app.addHook('onSend', (request, reply, payload, done) => {
    if (request.admission) {
      const res = reply.raw as Admitted;
      res[DELIVERY] ??= deliveries.start(new HttpRecipient(res, request.log));
    }
    done(null, payload);
  });

  app.addHook('preHandler', (request, _reply, done) => {
    try {
      request.admission?.takeSlot();
    } catch (err) {
      return done(err as Error);
    }
    done();
  });

  // At shutdown, a body still arriving has a moment to finish (one on its way is answered as
  // usual); a slow one is then answered 503 and does not hold the grace period.
  app.addHook('preClose', async () => {
    await ctx.uploads.settled(SHUTDOWN_UPLOAD_GRACE_MS);
    ctx.uploads.abortAll(
      new ProblemError('unavailable', 'the service is shutting down; retry', undefined, {
        'retry-after': RETRY_AFTER_SECONDS,
        connection: 'close',
      }),
    );
  });
}

/** Registered without encapsulation: it applies to every route of the app. */
export const admissionPlugin = fp(admission, { name: 'admission' });
