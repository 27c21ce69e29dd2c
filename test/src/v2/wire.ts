/**
 * The Open Inference Protocol as a test client speaks it, written from the protocol rather than
 * from src/v2: /v1 golden requests as v2 requests, the binary framing, and a sender that keeps
 * response bodies as bytes.
 */
import type { FastifyInstance } from 'fastify';
import request from 'supertest';
import type { GoldenRequest, GoldenRoute, GoldenTensor } from '../../golden/fixtures.js';

export const modelOf = (route: GoldenRoute): string =>
  route
    .replace(/^\/v1\//, '')
    .replace(/\/forward$/, '')
    .replace(/[/-]/g, '_');

const snake = (s: string) => s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
const PAIRS: Record<string, string> = {
  stride: 'stride',
  padding: 'padding',
  outputPadding: 'output_padding',
  dilation: 'dilation',
  kernelSize: 'kernel',
  outputSize: 'output',
};
const TENSORS = ['input', 'gradOutput', 'columns', 'weight', 'bias', 'gradWeight', 'gradBias'] as const;

export interface V2Input {
  name: string;
  shape: number[];
  datatype: 'FP32' | 'FP64';
  data?: unknown[];
  parameters?: { binary_data_size?: number };
}
export interface V2Request {
  id?: string;
  parameters?: Record<string, string | number | boolean>;
  inputs: V2Input[];
  outputs?: { name: string; parameters?: { binary_data?: boolean } }[];
}
export interface V2Output {
  name: string;
  shape: number[];
  datatype: 'FP32' | 'FP64';
  data?: (number | string)[];
  parameters?: { binary_data_size?: number };
}

export const datatypeOf = (dtype: string): 'FP32' | 'FP64' => (dtype === 'float64' ? 'FP64' : 'FP32');

export const typed = (t: GoldenTensor): Float32Array | Float64Array =>
  t.dtype === 'float64' ? Float64Array.from(t.data) : Float32Array.from(t.data);

/** A /v1 body as a v2 request: pairs split into _h/_w, inputShape as input_h/input_w. */
export function toV2(
  body: GoldenRequest,
  { binary = false } = {},
): { request: V2Request; tensors: (Float32Array | Float64Array)[] } {
  const parameters: Record<string, number | boolean> = {};
  for (const [k, v] of Object.entries(body)) {
    if (k in PAIRS) {
      const [h, w] = typeof v === 'number' ? [v, v] : (v as number[]);
      parameters[`${PAIRS[k]}_h`] = h;
      parameters[`${PAIRS[k]}_w`] = w;
    } else if (k === 'inputShape') {
      const s = v as number[];
      parameters.input_h = s[s.length - 2];
      parameters.input_w = s[s.length - 1];
    } else if (k === 'groups' || k === 'scale' || k === 'computeBias') {
      parameters[snake(k)] = v as number | boolean;
    }
  }
  const inputs: V2Input[] = [];
  const tensors: (Float32Array | Float64Array)[] = [];
  for (const f of TENSORS) {
    const t = body[f];
    if (!t) continue;
    const values = typed(t);
    if (binary) {
      inputs.push({
        name: snake(f),
        shape: [...t.shape],
        datatype: datatypeOf(t.dtype),
        parameters: { binary_data_size: values.byteLength },
      });
      tensors.push(values);
    } else {
      inputs.push({ name: snake(f), shape: [...t.shape], datatype: datatypeOf(t.dtype), data: [...t.data] });
    }
  }
  return { request: { ...(Object.keys(parameters).length > 0 ? { parameters } : {}), inputs }, tensors };
}

/** The extension's framing: JSON header, then the tensors' little-endian bytes. */
export function frame(header: unknown, tensors: readonly ArrayBufferView[]): { body: Buffer; headerLength: number } {
  const json = Buffer.from(JSON.stringify(header));
  return {
    body: Buffer.concat([json, ...tensors.map((t) => Buffer.from(t.buffer, t.byteOffset, t.byteLength))]),
    headerLength: json.length,
  };
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | undefined>;
  body: Buffer;
  json(): any;
}

/** One request over a real socket; the body comes back as bytes. */
export async function sendRaw(
  app: FastifyInstance,
  method: 'GET' | 'POST',
  url: string,
  body?: Buffer | string,
  headers: Record<string, string> = {},
): Promise<RawResponse> {
  let test = request(app.server)[method === 'GET' ? 'get' : 'post'](url);
  for (const [k, v] of Object.entries(headers)) test = test.set(k, v);
  if (body !== undefined) test = test.send(body);
  const res = await test.buffer(true).parse((stream, done) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => done(null, Buffer.concat(chunks)));
  });
  const raw = res.body as Buffer;
  return {
    status: res.status,
    headers: res.headers as Record<string, string | undefined>,
    body: raw,
    json: () => JSON.parse(raw.toString('utf8')),
  };
}

export const postJson = (app: FastifyInstance, model: string, req: unknown) =>
  sendRaw(app, 'POST', `/v2/models/${model}/infer`, JSON.stringify(req), { 'content-type': 'application/json' });

export const postBinary = (
  app: FastifyInstance,
  model: string,
  req: unknown,
  tensors: readonly ArrayBufferView[],
  headers: Record<string, string> = { 'content-type': 'application/octet-stream' },
) => {
  const { body, headerLength } = frame(req, tensors);
  return sendRaw(app, 'POST', `/v2/models/${model}/infer`, body, {
    ...headers,
    'inference-header-content-length': String(headerLength),
  });
};

/** A response's outputs by name, as typed arrays, from JSON data or the binary section. */
export function outputsOf(res: RawResponse): {
  header: { outputs: V2Output[]; model_name: string; id?: string };
  values: Record<string, Float32Array | Float64Array>;
} {
  const declared = res.headers['inference-header-content-length'];
  const headerLength = declared === undefined ? res.body.length : Number(declared);
  const header = JSON.parse(res.body.subarray(0, headerLength).toString('utf8'));
  const values: Record<string, Float32Array | Float64Array> = {};
  let offset = headerLength;
  const special: Record<string, number> = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity };
  for (const o of header.outputs as V2Output[]) {
    const Ctor = o.datatype === 'FP64' ? Float64Array : Float32Array;
    const size = o.parameters?.binary_data_size;
    if (size !== undefined) {
      const bytes = new Uint8Array(size);
      bytes.set(res.body.subarray(offset, offset + size));
      offset += size;
      values[o.name] = new Ctor(bytes.buffer);
    } else {
      values[o.name] = Ctor.from(o.data!.map((v) => (typeof v === 'number' ? v : special[v])));
    }
  }
  if (offset !== res.body.length) throw new Error(`binary section: ${res.body.length - offset} bytes left over`);
  return { header, values };
}
