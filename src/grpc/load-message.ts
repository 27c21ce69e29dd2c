import { MAX_CONFIG_BYTES, maxFileBytes } from '../models/layer-files.js';
import { base64Length } from '../schemas/tensor.js';
import { V2Error } from '../v2/errors.js';
import type { RepositoryParameter, RepositoryParameterMap } from './proto.js';

/**
 * RepositoryModelLoad's parameters as the body of REST's load (src/v2/repository.ts), so one
 * load serves both: the same parsing, checks, limits and messages in the load thread
 * (src/models/load-worker.ts). Triton's clients send a layer's files as gRPC bytes
 * (`file:1/model.safetensors` in bytes_param) where REST carries them in base64; the bytes are
 * written into the body in base64 a piece at a time, never as one string.
 */

/**
 * The bytes a load message may have: the weights file MAX_STORED_BYTES allows, and the
 * configuration with room for the message's framing. REST's load limit (loadBodyLimit) is the
 * same bound with the file in base64.
 */
export const loadMessageBytes = (maxStoredBytes: number): number => maxFileBytes(maxStoredBytes) + 2 * MAX_CONFIG_BYTES;

/** Bytes encoded at a time: a multiple of 3, so no piece but the last is padded. */
const PIECE = 3 * 2 ** 18;

type Value = string | number | boolean | Buffer;

function parameterValue(key: string, p: RepositoryParameter): Value {
  const where = `parameters["${key.slice(0, 64)}"]`;
  const field = p.parameter_choice;
  const value = field === undefined ? undefined : p[field];
  if (value === undefined)
    throw new V2Error(400, `${where} has no value: set one of bool_param, int64_param, string_param, bytes_param`);
  const file = key.startsWith('file:');
  if (file && field !== 'bytes_param') throw new V2Error(400, `${where} is a file: send its content in bytes_param`);
  if (!file && field === 'bytes_param')
    throw new V2Error(400, `${where}: bytes_param is for files (parameters named file:<path>)`);
  return value;
}

/**
 * The JSON body of REST's load for these parameters (empty: none, a load from MODEL_REPOSITORY).
 * `admit` is told its size before it is made, and may refuse it.
 */
export function loadBodyOf(parameters: RepositoryParameterMap | undefined, admit?: (bytes: number) => void): Buffer {
  const entries = Object.entries(parameters ?? {}).map(([k, p]) => [k, parameterValue(k, p)] as const);
  if (entries.length === 0) return Buffer.alloc(0);
  // `{"parameters":{"key":value,...}}`, each file's value its base64 in quotes.
  const parts: (Buffer | { readonly file: Buffer })[] = [];
  entries.forEach(([key, value], i) => {
    const head = `${i === 0 ? '{"parameters":{' : ','}${JSON.stringify(key)}:`;
    if (Buffer.isBuffer(value)) parts.push(Buffer.from(`${head}"`), { file: value }, Buffer.from('"'));
    else parts.push(Buffer.from(head + JSON.stringify(value)));
  });
  parts.push(Buffer.from('}}'));
  const size = parts.reduce((n, p) => n + (Buffer.isBuffer(p) ? p.length : base64Length(p.file.length)), 0);
  admit?.(size);
  const body = Buffer.allocUnsafeSlow(size);
  let at = 0;
  for (const p of parts) {
    if (Buffer.isBuffer(p)) at += p.copy(body, at);
    else
      for (let from = 0; from < p.file.length; from += PIECE)
        at += body.write(p.file.subarray(from, from + PIECE).toString('base64'), at, 'latin1');
  }
  if (at !== size) throw new Error(`wrote ${at} of ${size} bytes of the load body`);
  return body;
}
