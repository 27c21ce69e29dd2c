/**
 * Every kind of failure the service reports, in one registry: its problem `type` (RFC 9457),
 * title and HTTP status. Handlers throw `ProblemError`s; src/plugins/error-handler.ts turns them,
 * and everything Fastify or the pool throws, into problem documents.
 */
export const PROBLEM_TYPES = {
  'invalid-request': {
    status: 400,
    title: 'Invalid request',
    description:
      'The body is malformed or breaks the schema: wrong types, missing or unknown fields, bad dtype, data length, tensor rank; or it came in chunks too small to read at a bounded cost (past its first 1,024, averaging under 512 bytes).',
  },
  unauthorized: {
    status: 401,
    title: 'Unauthorized',
    description: 'API keys are configured and the bearer token is missing or unknown.',
  },
  forbidden: {
    status: 403,
    title: 'Forbidden',
    description: 'The bearer token is a known key, but not one of those the route needs (ADMIN_API_KEYS).',
  },
  'not-found': { status: 404, title: 'Not found', description: 'No route has this method and path.' },
  'request-timeout': {
    status: 408,
    title: 'Request timeout',
    description:
      'The request did not arrive in time: its body came slower than MIN_BODY_BYTES_PER_SECOND, or not within REQUEST_TIMEOUT_MS, or its headers not within HEADERS_TIMEOUT_MS. The connection is closed.',
  },
  'too-large': {
    status: 413,
    title: 'Request too large',
    description:
      'The body exceeds MAX_BODY_BYTES, a tensor or result exceeds MAX_ELEMENTS, or the cost exceeds MAX_MACS.',
  },
  'unsupported-media-type': {
    status: 415,
    title: 'Unsupported media type',
    description: 'The route takes application/json only.',
  },
  'headers-too-large': {
    status: 431,
    title: 'Request header fields too large',
    description: "The request's headers exceed what the server reads (16 KiB). The connection is closed.",
  },
  'inconsistent-request': {
    status: 422,
    title: 'Inconsistent request',
    description: 'Well-formed, but its parts disagree: channels, groups, output size, outputPadding, dtypes, shapes.',
  },
  'rate-limited': { status: 429, title: 'Too many requests', description: 'The client exceeded its request rate.' },
  'client-closed': {
    status: 499,
    title: 'Client closed request',
    description:
      "The client closed the connection before its answer was ready, and its work was cancelled. Never sent (nobody is left to read it): it names the outcome in logs and metrics, as nginx's 499 does.",
  },
  internal: {
    status: 500,
    title: 'Internal error',
    description: 'The service failed; the request id identifies it in the logs.',
  },
  unavailable: {
    status: 503,
    title: 'Service unavailable',
    description:
      'The queue is full, the memory budget is taken by requests in flight, or the service is shutting down; retry after Retry-After seconds.',
  },
  timeout: {
    status: 504,
    title: 'Timed out',
    description: 'The work took longer than REQUEST_TIMEOUT_MS and was cancelled.',
  },
} as const satisfies Record<string, { status: number; title: string; description: string }>;

export type ProblemSlug = keyof typeof PROBLEM_TYPES;

/** A problem type's URI: relative to the service, which serves its description there. */
export const problemTypeUri = (slug: ProblemSlug): string => `/problems/${slug}`;

/** The slug of the generic problem type for a status (what Fastify's own errors map to). */
export function slugForStatus(status: number): ProblemSlug {
  for (const [slug, p] of Object.entries(PROBLEM_TYPES)) if (p.status === status) return slug as ProblemSlug;
  return status >= 500 ? 'internal' : 'invalid-request';
}

/** One offending field: `path` names it as in the request body (`input.shape[1]`). */
export interface FieldError {
  readonly path: string;
  readonly message: string;
}

export interface ProblemDocument {
  type: string;
  title: string;
  status: number;
  detail: string;
  requestId: string;
  errors?: FieldError[];
}

export class ProblemError extends Error {
  override readonly name = 'ProblemError';
  constructor(
    readonly slug: ProblemSlug,
    readonly detail: string,
    readonly errors?: readonly FieldError[],
    /** Extra response headers, e.g. Retry-After. */
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(detail);
  }
  get status(): number {
    return PROBLEM_TYPES[this.slug].status;
  }
}

/**
 * Bounds of a problem document, whatever the request: it echoes field paths (and a route's
 * messages may quote a value), so each text is cut to a length, the list to a count, and the
 * whole to MAX_PROBLEM_BYTES (characters that JSON escapes take up to six bytes each).
 */
export const MAX_PROBLEM_BYTES = 16 * 1024;
export const MAX_LISTED_ERRORS = 20;
export const MAX_DETAIL_CHARS = 1024;
export const MAX_FIELD_CHARS = 256;

/** `text` cut to at most `max` UTF-16 code units, marked as cut (a lone surrogate never left at the end). */
export function bounded(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = max - 1;
  const c = text.charCodeAt(end - 1);
  if (c >= 0xd800 && c <= 0xdbff) end--;
  return `${text.slice(0, end)}…`;
}

const byteSize = (doc: ProblemDocument) => Buffer.byteLength(JSON.stringify(doc));

export function problemDocument(
  slug: ProblemSlug,
  detail: string,
  requestId: string,
  errors?: readonly FieldError[],
): ProblemDocument {
  const p = PROBLEM_TYPES[slug];
  const doc: ProblemDocument = {
    type: problemTypeUri(slug),
    title: p.title,
    status: p.status,
    detail: bounded(detail, MAX_DETAIL_CHARS),
    requestId,
  };
  if (errors && errors.length > 0) {
    doc.errors = errors
      .slice(0, MAX_LISTED_ERRORS)
      .map((e) => ({ path: bounded(e.path, MAX_FIELD_CHARS), message: bounded(e.message, MAX_FIELD_CHARS) }));
  }
  // Only texts full of escaped characters reach the cap: the last errors go first, then detail's tail.
  while (doc.errors && byteSize(doc) > MAX_PROBLEM_BYTES) {
    doc.errors.pop();
    if (doc.errors.length === 0) delete doc.errors;
  }
  if (byteSize(doc) > MAX_PROBLEM_BYTES) doc.detail = bounded(doc.detail, MAX_DETAIL_CHARS / 4);
  return doc;
}
