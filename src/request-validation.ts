import type { FastifySchemaCompiler } from 'fastify';
import type { z } from 'zod';
import { knownFields, suggestField } from './field-suggestions.js';
import type { FieldError } from './problems.js';

/** A path into the request body as the API names fields: `input.shape[1]`, `stride`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out === '' ? String(seg) : `.${String(seg)}`;
  }
  return out;
}

const join = (base: string, key: string) => (base === '' ? key : `${base}.${key}`);

/**
 * Whether the field at `path` is missing from `input` (issues do not carry their input, which
 * would keep the body alive with every issue, so absence is read from the body).
 */
function absent(input: unknown, path: readonly PropertyKey[]): boolean {
  let node = input;
  for (let i = 0; i < path.length - 1; i++) {
    if (node === null || typeof node !== 'object') return false;
    node = (node as Record<PropertyKey, unknown>)[path[i]];
  }
  const key = path[path.length - 1];
  if (key === undefined) return input === undefined;
  return node !== null && typeof node === 'object' && !Object.hasOwn(node, key);
}

/** Field errors a refusal lists: the first ones name the fix; thousands would only cost memory. */
export const MAX_FIELD_ERRORS = 20;

/** The field errors of a refusal: the first MAX_FIELD_ERRORS, and how many there were in all. */
export interface FieldErrors {
  readonly errors: FieldError[];
  readonly total: number;
}

/**
 * Zod's issues as the API's field errors: one per offending field, in words a caller can act on,
 * at most MAX_FIELD_ERRORS of them (an issue of unknown keys counts one per key, but only the
 * kept ones are named).
 */
export function fieldErrors(issues: readonly z.core.$ZodIssue[], input: unknown, schema?: z.ZodType): FieldErrors {
  const errors: FieldError[] = [];
  let total = 0;
  const add = (path: string, message: string) => {
    if (total++ < MAX_FIELD_ERRORS) errors.push({ path, message });
  };
  for (const issue of issues) {
    const path = formatPath(issue.path);
    if (issue.code === 'unrecognized_keys') {
      const room = Math.max(0, MAX_FIELD_ERRORS - total);
      const known = schema ? knownFields(schema, issue.path) : [];
      for (const key of issue.keys.slice(0, room)) {
        const hint = suggestField(key, known);
        add(join(path, key), hint ? `is not a known field; ${hint}` : 'is not a known field');
      }
      total += issue.keys.length - Math.min(room, issue.keys.length);
    } else if (issue.code === 'invalid_type' && total < MAX_FIELD_ERRORS && absent(input, issue.path)) {
      add(path, 'is required');
    } else {
      add(path, issue.message);
    }
  }
  return { errors, total };
}

/** The request broke its route's zod schema; carries the (first) field errors for the problem document. */
export class RequestValidationError extends Error {
  override readonly name = 'RequestValidationError';
  readonly statusCode = 400;
  readonly code = 'FST_ERR_VALIDATION';
  readonly errors: readonly FieldError[];
  /** How many field errors there were, listed or not. */
  readonly total: number;
  constructor(
    readonly part: string,
    found: FieldErrors,
  ) {
    const first = found.errors[0];
    super(first ? `${first.path || part}: ${first.message}` : `invalid ${part}`);
    this.errors = found.errors;
    this.total = Math.max(found.total, found.errors.length);
  }
}

/**
 * Fastify validator compiler: zod's safeParse, with errors kept as typed field errors. Issues do
 * not echo their input: a refusal never carries the body back, nor holds on to it.
 */
export const zodValidatorCompiler: FastifySchemaCompiler<z.ZodType> =
  ({ schema, httpPart }) =>
  (data) => {
    const result = schema.safeParse(data);
    if (result.success) return { value: result.data };
    return { error: new RequestValidationError(httpPart ?? 'body', fieldErrors(result.error.issues, data, schema)) };
  };
