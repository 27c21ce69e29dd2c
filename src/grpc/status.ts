import { Metadata, type ServerErrorResponse, status } from '@grpc/grpc-js';
import { bounded } from '../problems.js';
import { MAX_ERROR_CHARS, refusalOf } from '../v2/errors.js';

/**
 * The gRPC status of each HTTP status the service refuses with (docs/api.md, "gRPC"): the same
 * refusals as REST's, with the same messages, in the codes gRPC clients act on. 503 is
 * UNAVAILABLE whatever its cause (shutdown, a full queue, the memory budget taken by requests in
 * flight), since it means "retry shortly", which is what gRPC retry policies do for UNAVAILABLE;
 * RESOURCE_EXHAUSTED is kept for what a retry does not fix soon (too large, over the rate limit).
 */
export const GRPC_STATUS_OF_HTTP: Readonly<Record<number, status>> = {
  400: status.INVALID_ARGUMENT,
  401: status.UNAUTHENTICATED,
  403: status.PERMISSION_DENIED,
  404: status.NOT_FOUND,
  408: status.DEADLINE_EXCEEDED,
  413: status.RESOURCE_EXHAUSTED,
  415: status.INVALID_ARGUMENT,
  422: status.INVALID_ARGUMENT,
  429: status.RESOURCE_EXHAUSTED,
  499: status.CANCELLED,
  500: status.INTERNAL,
  503: status.UNAVAILABLE,
  504: status.DEADLINE_EXCEEDED,
};

/** A refusal's headers that mean something to a gRPC client too, sent as trailing metadata. */
const KEPT_HEADERS = ['retry-after'];

/** An error as the gRPC status a call ends with, or null when it is no refusal (a failure of ours). */
export function grpcRefusal(err: unknown): ServerErrorResponse | null {
  const r = refusalOf(err);
  if (r === null) return null;
  const metadata = new Metadata();
  for (const name of KEPT_HEADERS) if (r.headers?.[name] !== undefined) metadata.set(name, r.headers[name]);
  return Object.assign(new Error(bounded(r.error, MAX_ERROR_CHARS)), {
    code: GRPC_STATUS_OF_HTTP[r.status] ?? (r.status >= 500 ? status.INTERNAL : status.INVALID_ARGUMENT),
    details: bounded(r.error, MAX_ERROR_CHARS),
    metadata,
  });
}

/** The status of a failure of ours: its details stay in the log, the call id goes to the client. */
export const internalError = (callId: string): ServerErrorResponse =>
  Object.assign(new Error('internal'), {
    code: status.INTERNAL,
    details: `the service failed on request ${callId}`,
  });
