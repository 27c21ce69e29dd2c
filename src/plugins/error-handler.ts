import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { OpError } from '../ops/errors.js';
import {
  bounded,
  type FieldError,
  MAX_DETAIL_CHARS,
  PROBLEM_TYPES,
  ProblemError,
  type ProblemSlug,
  problemDocument,
  slugForStatus,
} from '../problems.js';
import { RequestValidationError } from '../request-validation.js';

const SLUG_BY_OP_STATUS = { 400: 'invalid-request', 413: 'too-large', 422: 'inconsistent-request' } as const;

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

interface Problem {
  slug: ProblemSlug;
  detail: string;
  errors?: readonly FieldError[];
  headers?: Readonly<Record<string, string>>;
}

/** What an error means to the caller. Anything unforeseen is a 500 whose details stay in the log. */
function classify(err: unknown): Problem | null {
  if (err instanceof ProblemError)
    return { slug: err.slug, detail: err.detail, errors: err.errors, headers: err.headers };
  if (err instanceof OpError)
    return {
      slug: SLUG_BY_OP_STATUS[err.status],
      detail: err.message,
      errors: [{ path: err.path, message: err.message }],
    };
  if (err instanceof RequestValidationError) {
    const more = err.total > 1 ? ` (and ${err.total - 1} more)` : '';
    return {
      slug: 'invalid-request',
      detail: `the request does not match the schema: ${err.message}${more}`,
      errors: err.errors,
    };
  }
  // Fastify's own client errors (bad JSON, body too large, media type) carry safe messages.
  const status = (err as FastifyError).statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const e = err as FastifyError;
    const detail = e.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' ? 'the body must be application/json' : e.message;
    return { slug: slugForStatus(status), detail };
  }
  return null;
}

export function sendProblem(reply: FastifyReply, p: Problem): FastifyReply {
  const doc = problemDocument(p.slug, p.detail, String(reply.request.id), p.errors);
  return reply
    .code(doc.status)
    .headers(p.headers ?? {})
    .type(PROBLEM_CONTENT_TYPE)
    .send(doc);
}

/** Every failure becomes an RFC 9457 problem document; no stack trace or path ever leaves. */
async function errorHandler(app: FastifyInstance): Promise<void> {
  app.setErrorHandler((err: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const p = classify(err);
    if (p) {
      // The status the problem will be sent with: the reply's is not set yet.
      request.log.info(
        { status: PROBLEM_TYPES[p.slug].status, problem: p.slug, detail: bounded(p.detail, MAX_DETAIL_CHARS) },
        'request refused',
      );
      return sendProblem(reply, p);
    }
    request.log.error({ err }, 'request failed');
    return sendProblem(reply, { slug: 'internal', detail: `the service failed on request ${request.id}` });
  });

  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, {
      slug: 'not-found',
      detail: `no route ${request.method} ${request.url.split('?')[0].slice(0, 200)}`,
    }),
  );
}

/** Registered without encapsulation: it applies to every route of the app. */
export const errorHandlerPlugin = fp(errorHandler, { name: 'errorHandler' });
