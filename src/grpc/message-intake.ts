import { type Http2Stream, constants as http2 } from 'node:http2';
import {
  Metadata,
  ResponderBuilder,
  ServerInterceptingCall,
  type ServerInterceptor,
  ServerListenerBuilder,
  status as Status,
} from '@grpc/grpc-js';
import { piecesRefusal } from '../body-pieces.js';
import { REFUSAL_LINGER_MS } from '../client-errors.js';
import type { Config } from '../config.js';
import type { Deliveries, Delivery, Recipient } from '../deliveries.js';
import type { MemoryBudget } from '../memory-budget.js';
import { HELD_PER_BODY_BYTE } from '../memory-model.js';
import type { KernelPool } from '../pool.js';
import { ProblemError } from '../problems.js';
import { RequestAdmission } from '../request-admission.js';
import type { Uploads } from '../uploads.js';
import type { MessageLimit } from './proto.js';
import { grpcRefusal } from './status.js';

export interface IntakeContext {
  readonly config: Config;
  readonly pool: KernelPool;
  readonly budget: MemoryBudget;
  readonly uploads: Uploads;
  readonly deliveries: Deliveries;
  /** Each method's message limit. */
  readonly limit: MessageLimit;
  /** The method whose handler takes its call's admission over (adoptAdmission); every other's is given back when its message is whole. */
  readonly adoptingMethod: string;
  /** Why a call of this method with this metadata may not be made (its key), or null. */
  readonly keyRefusal: (method: string, metadata: Metadata) => unknown;
}

/** What grpc-js's own call holds that no interceptor API shows. */
type CallInternals = {
  maxReceiveMessageSize?: number;
  decoder?: { maxReadMessageLength?: number };
  stream?: Http2Stream;
  /** What an interceptor's call wraps (ServerInterceptingCall's), down to grpc-js's own. */
  nextCall?: unknown;
};

/** grpc-js's own call, under the interceptors' that wrap it. */
function baseOf(call: unknown): CallInternals {
  let c = call as CallInternals;
  while (c.stream === undefined && typeof c.nextCall === 'object' && c.nextCall !== null)
    c = c.nextCall as CallInternals;
  return c;
}

/** A call's time, in ms from now: the nearer of REQUEST_TIMEOUT_MS and the caller's own deadline (at least 1). */
export const callTimeoutMs = (requestTimeoutMs: number, deadline: Date | number): number =>
  Math.max(1, Math.min(requestTimeoutMs, Number(deadline) - Date.now()));

/** Admissions waiting for their handler, by the call's metadata (the object the handler is given). */
const waiting = new WeakMap<Metadata, RequestAdmission>();

/**
 * The admission of a call of the adopting method, for its handler to carry on and release when
 * it is done; once. The intake releases it too, once the answer has been taken.
 */
export function adoptAdmission(metadata: Metadata): RequestAdmission | undefined {
  const admission = waiting.get(metadata);
  waiting.delete(metadata);
  return admission?.retain();
}

/**
 * A call's answer: an HTTP/2 stream hands each write over whole once the client's window allows,
 * so what is left of it cannot be told, only whether it is gone (the stream closed).
 */
class StreamRecipient implements Recipient {
  constructor(readonly stream: Http2Stream) {}
  pending(): null {
    return null;
  }
  cut(): void {
    this.stream.close(http2.NGHTTP2_CANCEL);
  }
}

/**
 * The rest of a message refused before it was whole, read and thrown away as a refused HTTP
 * body's is (src/plugins/refused-bodies.ts), so that a client still sending it is not reset
 * (RST_STREAM right after the status makes grpc-js's client report INTERNAL instead of the
 * status) but cannot go on forever either: past the deadline, below the minimum pace, or past
 * the method's message limit, the stream is reset (CANCEL); in frames too fine
 * (src/body-pieces.ts), it is read no more, and reset a moment later.
 */
function readAway(stream: Http2Stream, uploads: Uploads, deadlineMs: number, maxBytes: number): void {
  const reset = () => {
    upload.end();
    stream.close(http2.NGHTTP2_CANCEL);
  };
  const upload = uploads.start(performance.now() + deadlineMs, reset);
  let read = 0;
  let pieces = 0;
  const onData = (chunk: Buffer) => {
    read += chunk.length;
    if (read > maxBytes) reset();
    else if (piecesRefusal(++pieces, read)) {
      // Flow control holds the client while it reads the status.
      stream.off('data', onData);
      stream.pause();
      setTimeout(reset, REFUSAL_LINGER_MS).unref();
    } else upload.progress(read);
  };
  stream.on('data', onData);
  stream.once('close', () => upload.end());
  stream.once('end', () => upload.end());
}

/**
 * What a call's message may cost while it arrives, bounded as an HTTP body is
 * (src/request-admission.ts, src/uploads.ts):
 * - its key: a call without the key its method needs is refused from its headers (UNAUTHENTICATED,
 *   PERMISSION_DENIED), its message unread, as REST refuses before reading a body;
 * - its size: its method's limit (MAX_BODY_BYTES; a load's own), refused (RESOURCE_EXHAUSTED)
 *   from its length prefix, unread; grpc-js has one limit for the server, so each call's is
 *   lowered through grpc-js's internals before its first byte is read;
 * - its memory: charged to the memory budget as its bytes arrive, as a binary body's, so calls
 *   that send large messages slowly, or never finish them, hold no more than the budget
 *   (UNAVAILABLE when it has no room now, RESOURCE_EXHAUSTED when it never could);
 * - its time: the nearer of REQUEST_TIMEOUT_MS and the caller's deadline runs from its headers,
 *   and a message arriving slower than MIN_BODY_BYTES_PER_SECOND is cut off
 *   (DEADLINE_EXCEEDED); shutdown ends those still arriving (UNAVAILABLE);
 * - its frames: a message in DATA frames too fine to read at a bounded cost is refused
 *   (INVALID_ARGUMENT; src/body-pieces.ts), as a chunked HTTP body is.
 * The bytes are counted on grpc-js's HTTP/2 stream (internals again); should those change, the
 * limit still holds through the service definition (src/grpc/proto.ts) but the watch is lost,
 * which test/src/grpc/message-intake.test.ts would show. The admission is handed to the adopting
 * method's handler (ModelInfer: its charge grows into the request's, and is given back when the
 * answer has been taken or the stream has closed, as REST's is); every other call's is given
 * back when its message is whole, as REST charges only op bodies. An answer its client does not
 * take within REQUEST_TIMEOUT_MS has its stream reset (CANCEL; src/deliveries.ts).
 */
export const messageIntake =
  (ctx: IntakeContext): ServerInterceptor =>
  (method, call) => {
    const internals = baseOf(call);
    const max = ctx.limit(method.path);
    if (typeof internals.decoder?.maxReadMessageLength === 'number') {
      internals.decoder.maxReadMessageLength = max;
      internals.maxReceiveMessageSize = max;
    }
    const stream = internals.stream;
    if (stream === undefined) return new ServerInterceptingCall(call);

    const timeoutMs = callTimeoutMs(ctx.config.requestTimeoutMs, call.getDeadline());
    const admission = new RequestAdmission(
      { pool: ctx.pool, budget: ctx.budget, uploads: ctx.uploads, requestTimeoutMs: timeoutMs },
      { bytes: max * HELD_PER_BODY_BYTE.binary, declared: max },
    );
    const adopts = method.path === ctx.adoptingMethod;
    let received = 0;
    let pieces = 0;
    let done = false;
    let delivery: Delivery | null = null;
    const onData = (chunk: Buffer) => {
      received += chunk.length;
      const tooFine = piecesRefusal(++pieces, received);
      if (tooFine) return refuse(new ProblemError('invalid-request', tooFine));
      try {
        admission.received(received);
      } catch (err) {
        refuse(err);
      }
    };
    const stopWatching = () => {
      stream.off('data', onData);
      admission.endUpload();
    };
    const finish = () => {
      if (done) return;
      done = true;
      stopWatching();
      admission.release();
    };
    const intercepting: ServerInterceptingCall = new ServerInterceptingCall(
      call,
      new ResponderBuilder()
        .withStart((next) =>
          next(
            new ServerListenerBuilder()
              .withOnReceiveMetadata((metadata, next) => {
                // The key first, as REST checks it before reading a body: a stranger's message
                // is not read, nor charged.
                const refusal = ctx.keyRefusal(method.path, metadata);
                if (refusal) return refuse(refusal);
                if (adopts) waiting.set(metadata, admission);
                next(metadata);
              })
              .withOnReceiveHalfClose((next) => {
                // The message is whole: the adopting handler charges it from here; others are done.
                if (adopts) stopWatching();
                else finish();
                next();
              })
              .withOnCancel(finish)
              .build(),
          ),
        )
        .withSendMessage((message, next) => {
          // A stream of answers (Health's Watch) is not one answer to be taken in time.
          if (!method.responseStream) delivery ??= ctx.deliveries.start(new StreamRecipient(stream));
          next(message);
        })
        .withSendStatus((status, next) => {
          // An answer on its way holds what its request held until it is taken (the stream closes).
          if (delivery === null) finish();
          next(status);
          if (!stream.readableEnded) readAway(stream, ctx.uploads, ctx.config.requestTimeoutMs, max);
        })
        .build(),
    );
    stream.once('close', () => {
      delivery?.end();
      finish();
    });
    const refuse = (err: unknown) => {
      if (done) return;
      finish();
      const refusal = grpcRefusal(err);
      intercepting.sendStatus({
        code: refusal?.code ?? Status.INTERNAL,
        details: refusal?.details ?? 'the message could not be received',
        metadata: refusal?.metadata ?? new Metadata(),
      });
    };
    admission.startUpload(refuse);
    stream.on('data', onData);
    return intercepting;
  };
