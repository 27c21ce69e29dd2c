import { errorCodes, type FastifyRequest } from 'fastify';
import { piecesRefusal } from './body-pieces.js';
import { type BodyCost, jsonBodyCost } from './memory-model.js';
import { ProblemError } from './problems.js';

type Done = (err: Error | null, body?: unknown) => void;

/**
 * How much of a refused body is read and thrown away rather than its connection closed: a body
 * up to twice the limit. Closing with bytes unread resets the connection, and Node's http client
 * and fetch then report EPIPE or ECONNRESET instead of the 413 (curl reads it regardless); read
 * away, the answer arrives and the connection stays usable. src/plugins/refused-bodies.ts reads
 * it at a bounded rate, its pace and deadline watched; past this, the connection is closed.
 */
export const readAwayBytes = (bodyLimit: number): number => 2 * bodyLimit;

/** The cost of a JSON body (src/memory-model.ts). */
export const jsonCost = (_request: FastifyRequest, body: Buffer): BodyCost => jsonBodyCost(body);

/**
 * A body parser of raw bytes: `parse` gets the body copied into one Buffer, as with Fastify's
 * `parseAs: 'buffer'`, with the same limits and errors (413 past the route's body limit, 400 for
 * a body shorter or longer than its Content-Length or a broken stream), and one more: 400 for a
 * body cut into pieces too fine to read at a bounded cost (src/body-pieces.ts).
 *
 * The difference is when the bytes are copied. Fastify keeps every socket chunk and joins them
 * once the last has come: for a DCGAN forward's 4.2 MB body that was ~0.8 ms on the request's
 * critical path, and the chunks and the joined copy were alive together, twice the body. Here a body that states its
 * length is copied into a buffer of that length as its chunks arrive, while the client is still
 * sending, and each chunk is garbage at once. The buffer is not zeroed, so a client that states a
 * length and sends less makes the process resident for what it sent, not what it stated.
 *
 * On an op route, the request's admission (src/request-admission.ts) is told of every chunk (its
 * bytes are charged to the memory budget, its pace watched) and of the whole body's `cost`
 * before it is parsed; a refusal, a deadline or the shutdown ends the reading with its error.
 */
export function bodyBytesParser(parse: (request: FastifyRequest, body: Buffer, done: Done) => void, cost = jsonCost) {
  return (request: FastifyRequest, payload: NodeJS.ReadableStream, done: Done): void => {
    const limit = request.routeOptions.bodyLimit ?? Number.POSITIVE_INFINITY;
    const declared = Number(request.headers['content-length']);
    // A refusal that leaves the connection in step: the body was read whole, or its rest will be
    // read away (src/plugins/refused-bodies.ts). Fastify closes the connection on every body
    // parser error, lest the client send more; here it need not.
    const refuse = (err: Error) => {
      request.connectionInStep = true;
      done(err);
    };
    if (declared > limit) {
      const tooLarge = new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE();
      if (declared <= readAwayBytes(limit)) refuse(tooLarge);
      else done(tooLarge);
      return;
    }
    const stated = Number.isInteger(declared) && declared >= 0;
    const whole = stated ? Buffer.allocUnsafeSlow(declared) : null;
    const chunks: Buffer[] = [];
    const admission = request.admission;
    let received = 0;
    let pieces = 0;
    let finished = false;

    /** Stops reading; false if it had stopped already. */
    const stop = (): boolean => {
      if (finished) return false;
      finished = true;
      payload.removeListener('data', onData);
      payload.removeListener('end', onEnd);
      payload.removeListener('error', onError);
      return true;
    };
    const finish = (err: Error | null, body?: Buffer) => {
      if (!stop()) return;
      if (err) return done(err);
      try {
        if (admission) {
          admission.bodyComplete(cost(request, body!));
        }
      } catch (refusal) {
        return refuse(refusal as Error);
      }
      parse(request, body!, (err, value) => (err ? refuse(err) : done(null, value)));
    };
    const onData = (chunk: Buffer) => {
      const at = received;
      received += chunk.length;
      if (received > limit) return finish(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE());
      const tooFine = piecesRefusal(++pieces, received);
      if (tooFine) {
        if (stop()) refuse(new ProblemError('invalid-request', tooFine));
        return;
      }
      try {
        admission?.received(received);
      } catch (refusal) {
        if (stop()) refuse(refusal as Error);
        return;
      }
      if (whole === null) chunks.push(chunk);
      else if (received <= whole.length) chunk.copy(whole, at);
    };
    const onEnd = () => {
      if (stated && received !== declared) return finish(new errorCodes.FST_ERR_CTP_INVALID_CONTENT_LENGTH());
      finish(null, whole ?? Buffer.concat(chunks, received));
    };
    const onError = (err: Error & { statusCode?: number }) => {
      if (!(typeof err.statusCode === 'number' && err.statusCode >= 400)) err.statusCode = 400;
      finish(err);
    };
    admission?.startUpload((err) => finish(err));
    payload.on('data', onData);
    payload.on('end', onEnd);
    payload.on('error', onError);
    payload.resume();
  };
}
