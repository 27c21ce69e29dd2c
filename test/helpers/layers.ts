/**
 * Stored layers as a client makes them: Triton's config.json with the layer in string-valued
 * parameters, the safetensors file written here from the format's description (not with the
 * service's encoder), and the load body tritonclient's load_model(config=..., files=...) sends.
 */
import type { FastifyInstance } from 'fastify';
import { send } from './http.js';

export type Floats = Float32Array | Float64Array;

export interface LayerSpec {
  readonly op: 'conv_transpose2d' | 'conv2d';
  readonly params?: Readonly<Record<string, number>>;
}

export const layerConfig = (spec: LayerSpec): Record<string, unknown> => ({
  backend: 'convsvc',
  parameters: {
    op: { string_value: spec.op },
    ...Object.fromEntries(Object.entries(spec.params ?? {}).map(([k, v]) => [k, { string_value: String(v) }])),
  },
});

/** 8-byte little-endian header length, the JSON header, then each tensor's bytes in order. */
export function safetensors(tensors: Record<string, { shape: readonly number[]; values: Floats }>): Buffer {
  const header: Record<string, unknown> = {};
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    const bytes = t.values.byteLength;
    header[name] = {
      dtype: t.values instanceof Float64Array ? 'F64' : 'F32',
      shape: t.shape,
      data_offsets: [offset, offset + bytes],
    };
    offset += bytes;
  }
  const head = Buffer.from(JSON.stringify(header));
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(head.length));
  return Buffer.concat([
    length,
    head,
    ...Object.values(tensors).map((t) => Buffer.from(t.values.buffer, t.values.byteOffset, t.values.byteLength)),
  ]);
}

export const loadBody = (config: unknown, file: Buffer) => ({
  parameters: {
    config: typeof config === 'string' ? config : JSON.stringify(config),
    'file:1/model.safetensors': file.toString('base64'),
  },
});

export async function loadLayer(
  app: FastifyInstance,
  name: string,
  spec: LayerSpec,
  tensors: Record<string, { shape: readonly number[]; values: Floats }>,
  headers: Record<string, string> = {},
) {
  return send(app, {
    method: 'POST',
    url: `/v2/repository/models/${name}/load`,
    payload: loadBody(layerConfig(spec), safetensors(tensors)),
    headers: { 'content-type': 'application/json', ...headers },
  });
}
