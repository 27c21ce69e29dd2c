import { closeSync, fstatSync, mkdirSync, openSync, readSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { BASE64_PIECE } from '../tensor/json-body.js';
import { LayerError, type SharedTensor, shareTensor } from './layer.js';
import { MAX_HEADER_BYTES, parseSafetensors, SafetensorsError } from './safetensors.js';

/**
 * A layer's two files, wherever they come from: a load request's parameters (`config`, and the
 * weights file in base64 as tritonclient's load_model(files=...) sends it) or a repository
 * directory (`<name>/config.json`, `<name>/1/model.safetensors`, as Triton lays a model out).
 * Everything here runs in the load thread (src/models/load-worker.ts): the base64 decoding,
 * the safetensors checks and the copy into shared memory of a 64 MiB layer take the event
 * loop's time otherwise.
 */

/** The weights file of version 1, as a repository holds it and a load request names it. */
export const WEIGHTS_FILE = '1/model.safetensors';
export const CONFIG_FILE = 'config.json';
export const FILE_PARAMETER = `file:${WEIGHTS_FILE}`;

/** A configuration is a few hundred bytes; this bounds what is read of one. */
export const MAX_CONFIG_BYTES = 64 * 1024;

/** The bytes a weights file may take for a layer of `maxStoredBytes`. */
export const maxFileBytes = (maxStoredBytes: number): number => maxStoredBytes + 8 + MAX_HEADER_BYTES;

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** A load request's body: the parameters Triton's load API takes for a model with its files. */
export const LoadRequestSchema = z.strictObject({
  parameters: z
    .strictObject({
      config: z.string().max(MAX_CONFIG_BYTES).describe("The model configuration's JSON text (config.json)."),
      [FILE_PARAMETER]: z
        .string()
        .describe('The safetensors file of the layer (tensors `weight` and optional `bias`), base64.'),
    })
    .partial()
    .optional(),
});

export interface LayerFiles {
  readonly configText: string;
  readonly tensors: [string, SharedTensor][];
  /** The weights file as read or decoded, for a copy on disk (not sent back to the main thread). */
  readonly file?: Uint8Array;
}

export interface LayerFilesRefusal {
  readonly status: 400 | 413 | 422;
  readonly message: string;
}

/**
 * Room for a weights file of `bytes` in shared memory, placed so that its data section (after the
 * 8-byte length and the header of `headerLength` bytes) starts on a multiple of 8 whatever the
 * header's length: each tensor of one dtype is then aligned for its type, and shareTensor keeps
 * it where it is instead of copying it; a load holds its weights once.
 */
function sharedFile(bytes: number, headerLength: bigint): Buffer {
  const shift = Number((8n - ((8n + headerLength) % 8n)) % 8n);
  return Buffer.from(new SharedArrayBuffer(bytes + shift), shift, bytes);
}

/** The tensors of a weights file, checked, as views of it or copies in shared memory (src/models/layer.ts). */
function shareFile(file: Uint8Array): [string, SharedTensor][] {
  try {
    return [...parseSafetensors(file)].map(([name, t]) => [name, shareTensor(t)]);
  } catch (err) {
    if (err instanceof SafetensorsError) throw new LayerError(400, `${WEIGHTS_FILE}: ${err.message}`);
    throw err;
  }
}

/**
 * Base64 text: a string, or the latin1 bytes of a body where it stands. Bytes are read a piece at
 * a time, so a 86 MiB value never becomes one string.
 */
export type Base64Text = string | Uint8Array;

const BASE64_BODY = /^[A-Za-z0-9+/]*$/;

/** The weights file from its base64 (bounded by MAX_STORED_BYTES before anything is decoded). */
export function decodeWeightsFile(text: Base64Text, maxStoredBytes: number): Buffer {
  const length = text.length;
  const piece = (from: number, to: number) =>
    typeof text === 'string'
      ? text.slice(from, to)
      : Buffer.from(text.buffer, text.byteOffset + from, to - from).toString('latin1');
  const notBase64 = () => new LayerError(400, `parameters["${FILE_PARAMETER}"] is not base64`);
  if (length % 4 !== 0) throw notBase64();
  const tail = piece(Math.max(0, length - 2), length);
  const bytes = (length / 4) * 3 - (tail.endsWith('==') ? 2 : tail.endsWith('=') ? 1 : 0);
  if (bytes > maxFileBytes(maxStoredBytes))
    throw new LayerError(
      413,
      `${WEIGHTS_FILE} has ${bytes} bytes, more than MAX_STORED_BYTES (${maxStoredBytes}) allows`,
    );
  const first = Buffer.from(piece(0, Math.min(length, 12)), 'base64');
  const file = sharedFile(bytes, first.length >= 8 ? first.readBigUInt64LE(0) : 0n);
  let written = 0;
  for (let from = 0; from < length; from += BASE64_PIECE) {
    const to = Math.min(length, from + BASE64_PIECE);
    const chars = piece(from, to);
    // Padding belongs to the last group only, which the last piece holds (pieces are whole groups).
    if (!(to === length ? BASE64 : BASE64_BODY).test(chars)) throw notBase64();
    written += file.write(chars, written, 'base64');
  }
  if (written !== bytes) throw notBase64();
  return file;
}

/** The files of a load request's parameters (both present: a load without them reads the repository). */
export function filesOfParameters(configText: string, base64: Base64Text, maxStoredBytes: number): LayerFiles {
  const file = decodeWeightsFile(base64, maxStoredBytes);
  return { configText, tensors: shareFile(file), file };
}

/** A file of at most `max` bytes, or a refusal saying which bound it passes. */
function readBounded(path: string, shownAs: string, max: number, shared = false): Buffer {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    throw new LayerError(400, `the repository has no ${shownAs}`);
  }
  try {
    const size = fstatSync(fd).size;
    if (size > max) throw new LayerError(413, `${shownAs} has ${size} bytes, over ${max}`);
    let out: Buffer = Buffer.allocUnsafeSlow(shared ? Math.min(size, 8) : size);
    if (shared) {
      const headerLength = readSync(fd, out, 0, out.length, 0) === 8 ? out.readBigUInt64LE(0) : 0n;
      out = sharedFile(size, headerLength);
    }
    let at = 0;
    while (at < size) {
      const n = readSync(fd, out, at, size - at, at);
      if (n === 0) break;
      at += n;
    }
    if (at !== size) throw new LayerError(400, `${shownAs} changed while it was read`);
    return out;
  } finally {
    closeSync(fd);
  }
}

/** A layer's files in its directory (`<repository>/<name>`), `name` naming it in messages. */
export function filesOfDirectory(directory: string, name: string, maxStoredBytes: number): LayerFiles {
  const configText = readBounded(join(directory, CONFIG_FILE), `${name}/${CONFIG_FILE}`, MAX_CONFIG_BYTES);
  const file = readBounded(
    join(directory, WEIGHTS_FILE),
    `${name}/${WEIGHTS_FILE}`,
    maxFileBytes(maxStoredBytes),
    true,
  );
  return { configText: configText.toString('utf8'), tensors: shareFile(file), file };
}

/**
 * Writes a layer's files into `directory` (which must not exist) as a repository lays them out,
 * whole or not at all: they are written beside it and renamed into place, so a reader never
 * meets half a layer.
 */
export function saveLayerFiles(directory: string, configText: string, file: Uint8Array): void {
  const staging = `${directory}.partial`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(join(staging, dirname(WEIGHTS_FILE)), { recursive: true });
  writeFileSync(join(staging, CONFIG_FILE), configText);
  writeFileSync(join(staging, WEIGHTS_FILE), file);
  renameSync(staging, directory);
}
