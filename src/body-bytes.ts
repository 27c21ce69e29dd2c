import { errorCodes, type FastifyRequest } from 'fastify';
import { answerEncodingOf, jsonBodyCost, type Encoding } from './memory-model.js';

type Done = (err: Error | null, body?: unknown) => void;

/** What a whole body is expected to hold once parsed (src/memory-model.ts), and its answer's likely encoding. */
export interface BodyCost {
  readonly bytes: number;
  readonly answer: Encoding;
}

/** The cost of a JSON body. */
export const jsonCost = (_request: FastifyRequest, body: Buffer): BodyCost => ({ bytes: jsonBodyCost(body), answer: answerEncodingOf(body, false) });

/**
 * A body parser of raw bytes: `parse` gets the body copied into one Buffer, as with Fastify's
 * `parseAs: 'buffer'`, with the same limits and errors (413 past the route's body limit, 400 for
 * a body shorter or longer than its Content-Length or a broken stream).
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
    if (declared > limit) return done(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE());
    const stated = Number.isInteger(declared) && declared >= 0;
    const whole = stated ? Buffer.allocUnsafeSlow(declared) : null;
    const chunks: Buffer[] = [];
    const admission = request.admission;
    let received = 0;
    let finished = false;

    const finish = (err: Error | null, body?: Buffer) => {
      if (finished) return;
      finished = true;
      payload.removeListener('data', onData);
      payload.removeListener('end', onEnd);
      payload.removeListener('error', onError);
      if (err) return done(err);
      try {
        if (admission) {
          const { bytes, answer } = cost(request, body!);
          admission.bodyComplete(bytes, answer);
        }
      } catch (refusal) {
        return done(refusal as Error);
      }
      parse(request, body!, done);
    };
    const onData = (chunk: Buffer) => {
      const at = received;
      received += chunk.length;
      if (received > limit) return finish(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE());
      try {
        admission?.received(received);
      } catch (refusal) {
        return finish(refusal as Error);
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
