import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { OpError } from '../ops/errors.js';
import { bounded, ProblemError } from '../problems.js';
import { RequestValidationError } from '../request-validation.js';
import { v2Text } from './names.js';

/** A refusal in the protocol's terms: a status and the `error` string of its body. */
export class V2Error extends Error {
  override readonly name = 'V2Error';
  constructor(
    readonly status: 400 | 404 | 413 | 415 | 422 | 503,
    message: string,
  ) {
    super(message);
  }
}

interface Refusal {
  readonly status: number;
  readonly error: string;
  readonly headers?: Readonly<Record<string, string>>;
}

export const MEDIA_TYPE =
  'the body must be application/json, or application/octet-stream with an Inference-Header-Content-Length header (binary tensor extension)';

/**
 * What an error means to a protocol client, with the status /v1 would give it. Anything
 * unforeseen is a 500 whose details stay in the log.
 */
export function refusalOf(err: unknown): Refusal | null {
  if (err instanceof V2Error) return { status: err.status, error: err.message };
  if (err instanceof ProblemError) return { status: err.status, error: v2Text(err.detail), headers: err.headers };
  if (err instanceof OpError) return { status: err.status, error: v2Text(err.message) };
  if (err instanceof RequestValidationError) {
    const more = err.total > 1 ? ` (and ${err.total - 1} more)` : '';
    return { status: 400, error: `the request does not match the schema: ${err.message}${more}` };
  }
  const e = err as FastifyError;
  if (typeof e?.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return { status: e.statusCode, error: e.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' ? MEDIA_TYPE : e.message };
  }
  return null;
}

/** Longest `error` text sent: it may quote field names and values of the request. */
export const MAX_ERROR_CHARS = 1024;

export const sendRefusal = (reply: FastifyReply, r: Refusal): FastifyReply =>
  reply
    .code(r.status)
    .headers(r.headers ?? {})
    .type('application/json; charset=utf-8')
    .send({ error: bounded(r.error, MAX_ERROR_CHARS) });

/** Errors of every /v2 route in the protocol's `{"error": "..."}` form. */
export function useV2Errors(app: FastifyInstance): void {
  app.setErrorHandler((err: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const r = refusalOf(err);
    if (r) {
      request.log.info({ status: r.status, detail: bounded(r.error, MAX_ERROR_CHARS) }, 'request refused');
      return sendRefusal(reply, r);
    }
    request.log.error({ err }, 'request failed');
    return sendRefusal(reply, { status: 500, error: `the service failed on request ${request.id}` });
  });
  app.setNotFoundHandler((request, reply) =>
    sendRefusal(reply, { status: 404, error: `no route ${request.method} ${request.url.split('?')[0].slice(0, 200)}` }),
  );
}
