/**
 * Why a request cannot be computed. Each error names the field (a path into the request body,
 * e.g. `input.shape[1]`) and the rule it breaks, so the HTTP layer can turn it into a problem
 * document without knowing anything about convolutions.
 *
 * - 400: the request is malformed (a rank, a range the schema also states).
 * - 413: the request is well-formed but too large for the configured limits.
 * - 422: the request is well-formed but its parts disagree with each other.
 */
export type OpErrorStatus = 400 | 413 | 422;

export class OpError extends Error {
  override readonly name = 'OpError';
  constructor(
    readonly status: OpErrorStatus,
    /** The offending field, as a path into the request body. */
    readonly path: string,
    message: string,
  ) {
    super(message);
  }
}
