import type { FastifyRequest } from 'fastify';
import { V2Error } from './errors.js';

/**
 * The binary tensor data extension's framing: a body is a JSON header of
 * `Inference-Header-Content-Length` bytes followed by the raw tensors, each little-endian and
 * row-major, in the order of the header's tensors that declare a `binary_data_size`.
 */

export const HEADER_LENGTH = 'inference-header-content-length';
export const BINARY_CONTENT_TYPE = 'application/octet-stream';

const sections = new WeakMap<FastifyRequest, Buffer>();

/** The bytes after a request's JSON header (empty when it has none). */
export const binarySection = (request: FastifyRequest): Buffer => sections.get(request) ?? Buffer.alloc(0);

type JsonParser = (request: FastifyRequest, json: Buffer, done: (err: Error | null, value?: unknown) => void) => void;

/**
 * A body parser for the infer route: splits off the JSON header when the request says how long
 * it is, keeps the rest as the request's binary section, and hands the header's bytes to the
 * JSON parser (src/tensor/off-loop-parse.ts). The body limit was applied as the body was
 * read (src/body-bytes.ts).
 */
export function inferBodyParser(parseJson: JsonParser) {
  return (request: FastifyRequest, body: Buffer, done: (err: Error | null, value?: unknown) => void): void => {
    const declared = request.headers[HEADER_LENGTH];
    let header = body;
    if (declared !== undefined) {
      const length = Number(declared);
      if (typeof declared !== 'string' || !/^\d+$/.test(declared) || length > body.length) {
        done(
          new V2Error(
            400,
            `${HEADER_LENGTH} must be a whole number of bytes no larger than the body (${body.length}), got ${String(declared).slice(0, 40)}`,
          ),
        );
        return;
      }
      header = body.subarray(0, length);
      sections.set(request, body.subarray(length));
    } else if ((request.headers['content-type'] ?? '').startsWith(BINARY_CONTENT_TYPE)) {
      done(
        new V2Error(
          400,
          `an ${BINARY_CONTENT_TYPE} body needs an Inference-Header-Content-Length header saying how long its JSON header is`,
        ),
      );
      return;
    }
    parseJson(request, header, done);
  };
}

/** A response body: the JSON header, then each binary output's bytes in order. */
export function frameBinary(
  header: unknown,
  tensors: readonly ArrayBufferView[],
): { body: Buffer; headerLength: number } {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const parts = [json, ...tensors.map((t) => Buffer.from(t.buffer, t.byteOffset, t.byteLength))];
  return { body: Buffer.concat(parts), headerLength: json.length };
}
