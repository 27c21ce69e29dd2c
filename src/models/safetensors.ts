import { z } from 'zod';

/**
 * The safetensors format (huggingface/safetensors): an 8-byte little-endian header length N, N
 * bytes of JSON naming each tensor's dtype, shape and [begin, end) byte range in the data that
 * follows, then the data. Only what a stored layer holds is taken: F32 and F64 tensors. Every
 * field of a file sent by a client is checked before a byte of data is read: the header's length
 * and JSON, each tensor's byte count against its shape, and the ranges, which must tile the data
 * section exactly (no gap, no overlap, nothing after).
 */

export const SAFETENSORS_DTYPES = { F32: 4, F64: 8 } as const;
export type SafetensorsDtype = keyof typeof SAFETENSORS_DTYPES;

/** Far above the header of any layer (two tensors take ~150 bytes), far below what could hurt. */
export const MAX_HEADER_BYTES = 64 * 1024;
/** More tensors than a layer has; a header listing thousands is refused unread. */
export const MAX_TENSORS = 16;
const MAX_RANK = 8;
const MAX_DIM = 2 ** 31 - 1;

export class SafetensorsError extends Error {
  override readonly name = 'SafetensorsError';
}

const TensorInfoSchema = z.strictObject({
  dtype: z.enum(Object.keys(SAFETENSORS_DTYPES) as [SafetensorsDtype, ...SafetensorsDtype[]]),
  shape: z.array(z.number().int().min(0).max(MAX_DIM)).max(MAX_RANK),
  data_offsets: z.tuple([z.number().int().min(0), z.number().int().min(0)]),
});

/** The header: tensors by name, and the format's optional string-to-string `__metadata__`. */
export const SafetensorsHeaderSchema = z
  .record(z.string().min(1).max(256), z.unknown())
  .refine((h) => Object.keys(h).length <= MAX_TENSORS + 1, `a header lists at most ${MAX_TENSORS} tensors`)
  .transform((header, ctx) => {
    const tensors: [string, z.infer<typeof TensorInfoSchema>][] = [];
    for (const [name, value] of Object.entries(header)) {
      const schema = name === '__metadata__' ? z.record(z.string(), z.string().max(4096)) : TensorInfoSchema;
      const parsed = schema.safeParse(value);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        ctx.addIssue({ code: 'custom', path: [name, ...issue.path], message: issue.message });
        return z.NEVER;
      }
      if (name !== '__metadata__') tensors.push([name, parsed.data as z.infer<typeof TensorInfoSchema>]);
    }
    return tensors;
  });

export interface SafetensorsTensor {
  readonly dtype: SafetensorsDtype;
  readonly shape: readonly number[];
  /** The tensor's little-endian bytes: a view of the file, not a copy. */
  readonly bytes: Uint8Array;
}

const elements = (shape: readonly number[]) => shape.reduce((n, d) => n * d, 1);

/** The tensors of a safetensors file, checked; throws SafetensorsError saying what is wrong. */
export function parseSafetensors(file: Uint8Array): Map<string, SafetensorsTensor> {
  if (file.length < 8)
    throw new SafetensorsError(`the file has ${file.length} bytes, fewer than its 8-byte header length`);
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const headerLength = view.getBigUint64(0, true);
  if (headerLength > BigInt(MAX_HEADER_BYTES))
    throw new SafetensorsError(`the header length ${headerLength} is over ${MAX_HEADER_BYTES} bytes`);
  const n = Number(headerLength);
  if (8 + n > file.length)
    throw new SafetensorsError(`the header length ${n} runs past the end of the file (${file.length} bytes)`);
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(file.subarray(8, 8 + n)));
  } catch {
    throw new SafetensorsError('the header is not UTF-8 JSON');
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json))
    throw new SafetensorsError('the header is not a JSON object');
  const parsed = SafetensorsHeaderSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const at = issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
    throw new SafetensorsError(`the header is not valid: ${at}${issue.message}`);
  }
  const dataStart = 8 + n;
  const dataLength = file.length - dataStart;
  const tensors = parsed.data
    .map(([name, t]) => {
      const [begin, end] = t.data_offsets;
      const want = elements(t.shape) * SAFETENSORS_DTYPES[t.dtype];
      if (end < begin) throw new SafetensorsError(`${name}: data_offsets [${begin}, ${end}] end before they begin`);
      if (end - begin !== want)
        throw new SafetensorsError(
          `${name}: data_offsets span ${end - begin} bytes but shape [${t.shape.join(', ')}] of ${t.dtype} needs ${want}`,
        );
      if (end > dataLength)
        throw new SafetensorsError(`${name}: data_offsets end at ${end}, past the data section's ${dataLength} bytes`);
      return { name, ...t, begin, end };
    })
    .sort((a, b) => a.begin - b.begin || a.end - b.end);
  let covered = 0;
  for (const t of tensors) {
    if (t.begin < covered) throw new SafetensorsError(`${t.name}: its bytes overlap another tensor's`);
    if (t.begin > covered) throw new SafetensorsError(`bytes ${covered} to ${t.begin} of the data belong to no tensor`);
    covered = t.end;
  }
  if (covered !== dataLength)
    throw new SafetensorsError(`the data section holds ${dataLength} bytes but the tensors cover ${covered}`);
  return new Map(
    tensors.map((t) => [
      t.name,
      { dtype: t.dtype, shape: t.shape, bytes: file.subarray(dataStart + t.begin, dataStart + t.end) },
    ]),
  );
}
