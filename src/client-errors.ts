import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { PROBLEM_TYPES, type ProblemSlug, problemDocument } from './problems.js';

/**
 * How long a refused connection is left open before it is closed: closing it with bytes unread
 * resets it, and a client that has not read its answer by then loses it.
 */
export const REFUSAL_LINGER_MS = 2000;

/** What Node's HTTP parser refused, as the problem it is to the client. */
function classify(err: NodeJS.ErrnoException): { slug: ProblemSlug; detail: string } {
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT')
    return {
      slug: 'request-timeout',
      detail: 'the request did not arrive in time (HEADERS_TIMEOUT_MS, REQUEST_TIMEOUT_MS)',
    };
  if (err.code === 'HPE_HEADER_OVERFLOW')
    return { slug: 'headers-too-large', detail: "the request's headers are larger than the server reads" };
  return {
    slug: 'invalid-request',
    detail: `the request is not valid HTTP/1.1 (${err.code ?? 'unknown parse error'})`,
  };
}

/**
 * Fastify's clientErrorHandler: errors Node raises before there is a request (malformed HTTP,
 * headers too large, a request not received in time) get a problem document like every other
 * refusal, then the connection is closed, as Node does.
 */
export function answerClientError(this: FastifyInstance, err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const { slug, detail } = classify(err);
  const requestId = randomUUID();
  const body = JSON.stringify(problemDocument(slug, detail, requestId));
  const status = PROBLEM_TYPES[slug].status;
  this.log.info({ status, code: err.code, requestId }, 'request refused by the HTTP parser');
  // Not when an answer has begun on this connection: a half-written answer cannot be followed by
  // another. (Node's own test, on its private `_httpMessage`; `bytesWritten` would also count
  // the answers of earlier requests on a kept-alive connection.)
  const current = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (!socket.writable || current?.headersSent) {
    socket.destroy(err);
    return;
  }
  // The answer goes out, then the connection is half-closed and what the client still sends is
  // read and dropped for a moment: closing with unread bytes would reset the connection, and
  // most clients would lose the answer with it.
  socket.end(
    `HTTP/1.1 ${status} ${PROBLEM_TYPES[slug].title}\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
      `X-Request-Id: ${requestId}\r\nConnection: close\r\n\r\n${body}`,
  );
  socket.resume();
  const linger = setTimeout(() => socket.destroy(), REFUSAL_LINGER_MS).unref();
  socket.once('close', () => clearTimeout(linger));
}
