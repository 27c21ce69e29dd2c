/**
 * A typed client for convsvc: the types are generated from the OpenAPI document
 * (client/openapi-types.ts), the requests go through openapi-fetch, and the helpers turn
 * Float32Array / Float64Array into request tensors and answers back into typed arrays.
 *
 *     import { createConvsvcClient, tensor } from 'convsvc/client';
 *     const convsvc = createConvsvcClient({ baseUrl: 'http://localhost:8080' });
 *     const { output } = await convsvc.infer('conv_transpose2d', { input: tensor(x, [1, 1, 2, 2]), weight: tensor(w, [1, 1, 3, 3]) }, { stride_h: 2, stride_w: 2 });
 */
import createClient, { type Client } from 'openapi-fetch';
import type { components, paths } from './openapi-types.js';

export type { components, operations, paths } from './openapi-types.js';

type Schemas = components['schemas'];
export type RequestTensor = Schemas['Tensor'];
export type ResultTensor = Schemas['ResultTensor'];
export type InferenceRequest =
  paths['/v2/models/{model_name}/infer']['post']['requestBody']['content']['application/json'];
export type InferenceResponse = Schemas['InferenceResponse'];
export type ModelName = paths['/v2/models/{model_name}/infer']['post']['parameters']['path']['model_name'];

export type FloatArray = Float32Array | Float64Array;

/** A tensor on the caller's side: row-major values and their shape. */
export interface Tensor<A extends FloatArray = FloatArray> {
  readonly shape: readonly number[];
  readonly values: A;
}

export const tensor = <A extends FloatArray>(values: A, shape: readonly number[]): Tensor<A> => {
  const count = shape.reduce((n, d) => n * d, 1);
  if (count !== values.length)
    throw new RangeError(`shape [${shape.join(', ')}] holds ${count} values, not ${values.length}`);
  return { shape, values };
};

const NON_FINITE: Readonly<Record<string, number>> = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity };

const numbersOf = (data: readonly (number | string)[]): number[] =>
  data.map((v) => (typeof v === 'number' ? v : NON_FINITE[v]));

const jsonValue = (v: number): number | 'NaN' | 'Infinity' | '-Infinity' =>
  Number.isFinite(v) ? v : Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity';

const bytesOf = (a: ArrayBufferView): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

function base64Of(a: FloatArray): string {
  const bytes = bytesOf(a);
  let text = '';
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text);
}

/** A fresh typed array of `Ctor` over a copy of `bytes` (aligned, owning its buffer). */
function fromBytes(Ctor: Float32ArrayConstructor | Float64ArrayConstructor, bytes: Uint8Array): FloatArray {
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  return new Ctor(copy.buffer);
}

const dtypeOf = (a: FloatArray): 'float32' | 'float64' => (a instanceof Float64Array ? 'float64' : 'float32');

/** A /v1 request tensor: base64 (fast, exact) by default, or JSON numbers. */
export function toV1Tensor(t: Tensor, encoding: 'base64' | 'json' = 'base64'): RequestTensor {
  const dtype = dtypeOf(t.values);
  if (encoding === 'base64') return { shape: [...t.shape], dtype, b64: base64Of(t.values) };
  return { shape: [...t.shape], dtype, data: Array.from(t.values, jsonValue) };
}

/** A /v1 result tensor as a typed array of its dtype. */
export function fromV1Tensor(t: ResultTensor): Tensor {
  const Ctor = t.dtype === 'float64' ? Float64Array : Float32Array;
  if (t.b64 !== undefined)
    return {
      shape: t.shape,
      values: fromBytes(
        Ctor,
        Uint8Array.from(atob(t.b64), (c) => c.charCodeAt(0)),
      ),
    };
  return { shape: t.shape, values: Ctor.from(numbersOf(t.data ?? [])) };
}

/** Every tensor field of a /v1 answer as a typed array. */
export function fromV1Answer<A extends Record<string, ResultTensor | undefined>>(
  answer: A,
): { [K in keyof A]: Tensor } {
  return Object.fromEntries(
    Object.entries(answer)
      .filter(([, t]) => t !== undefined)
      .map(([k, t]) => [k, fromV1Tensor(t!)]),
  ) as { [K in keyof A]: Tensor };
}

export const HEADER_LENGTH = 'inference-header-content-length';

/**
 * A v2 inference request with every input in the binary section (or in JSON `data` with
 * `binary: false`), and the binary body that carries it.
 */
export function toV2Request(
  inputs: Readonly<Record<string, Tensor>>,
  parameters: Readonly<Record<string, string | number | boolean>> = {},
  { binary = true }: { binary?: boolean } = {},
): { request: InferenceRequest; body: Uint8Array; headerLength: number } {
  const request: InferenceRequest = {
    parameters: { ...parameters, ...(binary ? { binary_data_output: true } : {}) },
    inputs: Object.entries(inputs).map(([name, t]) => ({
      name,
      shape: [...t.shape],
      datatype: t.values instanceof Float64Array ? ('FP64' as const) : ('FP32' as const),
      ...(binary
        ? { parameters: { binary_data_size: t.values.byteLength } }
        : { data: Array.from(t.values, jsonValue) }),
    })),
  };
  const header = new TextEncoder().encode(JSON.stringify(request));
  const tensors = binary ? Object.values(inputs).map((t) => bytesOf(t.values)) : [];
  const body = new Uint8Array(header.length + tensors.reduce((n, b) => n + b.length, 0));
  body.set(header);
  let offset = header.length;
  for (const b of tensors) {
    body.set(b, offset);
    offset += b.length;
  }
  return { request, body, headerLength: header.length };
}

/** The outputs of a v2 response body (JSON, or the binary framing) by name, as typed arrays. */
export function fromV2Response(body: Uint8Array, headerLength: number = body.length): Record<string, Tensor> {
  const header = JSON.parse(new TextDecoder().decode(body.subarray(0, headerLength))) as InferenceResponse;
  const out: Record<string, Tensor> = {};
  let offset = headerLength;
  for (const o of header.outputs) {
    const Ctor = o.datatype === 'FP64' ? Float64Array : Float32Array;
    const size = o.parameters?.binary_data_size;
    if (size !== undefined) {
      out[o.name] = { shape: o.shape, values: fromBytes(Ctor, body.subarray(offset, offset + size)) };
      offset += size;
    } else {
      out[o.name] = { shape: o.shape, values: Ctor.from(numbersOf(o.data ?? [])) };
    }
  }
  if (offset !== body.length)
    throw new Error(`the response's binary section has ${body.length - offset} bytes no output declares`);
  return out;
}

/** A stored layer's op and the parameters it fixes (`stride_h`, `padding_w`, `groups`, ...). */
export interface LayerSpec {
  readonly op: 'conv_transpose2d' | 'conv2d';
  readonly parameters?: Readonly<Record<string, number>>;
  readonly weight: Tensor;
  readonly bias?: Tensor;
}

/** The layer's config.json: Triton's model configuration, the layer in string-valued parameters. */
export function layerConfig(spec: Pick<LayerSpec, 'op' | 'parameters'>): Record<string, unknown> {
  return {
    backend: 'convsvc',
    parameters: {
      op: { string_value: spec.op },
      ...Object.fromEntries(Object.entries(spec.parameters ?? {}).map(([k, v]) => [k, { string_value: String(v) }])),
    },
  };
}

/** A safetensors file of the tensors (F32 / F64, little-endian), as the service stores a layer's weights. */
export function toSafetensors(tensors: Readonly<Record<string, Tensor>>): Uint8Array {
  const header: Record<string, unknown> = {};
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    const dtype = t.values instanceof Float64Array ? 'F64' : 'F32';
    header[name] = { dtype, shape: [...t.shape], data_offsets: [offset, offset + t.values.byteLength] };
    offset += t.values.byteLength;
  }
  // Padded with spaces to a multiple of 8, as the reference writer does: the data is then aligned,
  // and the service keeps the tensors where they are in the file instead of copying them.
  let text = JSON.stringify(header);
  text += ' '.repeat((8 - ((8 + text.length) % 8)) % 8);
  const head = new TextEncoder().encode(text);
  const file = new Uint8Array(8 + head.length + offset);
  new DataView(file.buffer).setBigUint64(0, BigInt(head.length), true);
  file.set(head, 8);
  let at = 8 + head.length;
  for (const t of Object.values(tensors)) {
    file.set(bytesOf(t.values), at);
    at += t.values.byteLength;
  }
  return file;
}

function base64(bytes: Uint8Array): string {
  if (typeof Buffer !== 'undefined')
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
  let text = '';
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text);
}

/** The body of a load: what tritonclient's load_model(name, config=..., files=...) sends. */
export function loadLayerBody(spec: LayerSpec): { parameters: Record<string, string> } {
  const tensors: Record<string, Tensor> = { weight: spec.weight, ...(spec.bias ? { bias: spec.bias } : {}) };
  return {
    parameters: {
      config: JSON.stringify(layerConfig(spec)),
      'file:1/model.safetensors': base64(toSafetensors(tensors)),
    },
  };
}

/** The passes a stored layer runs with its weight. */
export type LayerPass = 'forward' | 'grad_input' | 'grad_parameters' | 'backward';

/** A refusal from the service: the status and what it said (problem detail or v2 error). */
export class ConvsvcError extends Error {
  override readonly name = 'ConvsvcError';
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {
    const b = body as { detail?: string; error?: string } | undefined;
    super(`convsvc answered ${status}: ${b?.detail ?? b?.error ?? JSON.stringify(body)}`);
  }
}

export interface ConvsvcClientOptions {
  readonly baseUrl: string;
  /** Sent as `Authorization: Bearer <apiKey>` (for a service run with API_KEYS). */
  readonly apiKey?: string;
  /** Sent instead of apiKey by loadLayer and unloadLayer (a service run with ADMIN_API_KEYS). */
  readonly adminKey?: string;
  readonly fetch?: typeof fetch;
}

export interface ConvsvcClient {
  /** The typed openapi-fetch client: every route of the OpenAPI document. */
  readonly http: Client<paths>;
  /**
   * Runs a model over the Open Inference Protocol: inputs by their snake_case names, op
   * parameters split as the protocol wants them (`stride_h`, `stride_w`, ...). Binary tensor
   * extension both ways unless `binary: false`.
   */
  infer(
    model: ModelName,
    inputs: Readonly<Record<string, Tensor>>,
    parameters?: Readonly<Record<string, number | boolean>>,
    options?: { binary?: boolean },
  ): Promise<Record<string, Tensor>>;
  /** Loads (or reloads) a stored layer on every server process; resolves once it serves. */
  loadLayer(name: string, spec: LayerSpec): Promise<void>;
  unloadLayer(name: string): Promise<void>;
  /**
   * Runs a stored layer: only the request's own tensors (`input`; `grad_output` for the
   * backward passes), the weight being the layer's. `pass` defaults to forward.
   */
  inferLayer(
    name: string,
    inputs: Readonly<Record<string, Tensor>>,
    options?: { pass?: LayerPass; parameters?: Readonly<Record<string, number | boolean>>; binary?: boolean },
  ): Promise<Record<string, Tensor>>;
}

export function createConvsvcClient(options: ConvsvcClientOptions): ConvsvcClient {
  const http = createClient<paths>({
    baseUrl: options.baseUrl.replace(/\/$/, ''),
    headers: options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {},
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  const admin = options.adminKey ? { authorization: `Bearer ${options.adminKey}` } : {};
  const client: ConvsvcClient = {
    http,
    async loadLayer(name, spec) {
      const { error, response } = await http.POST('/v2/repository/models/{model_name}/load', {
        params: { path: { model_name: name } },
        body: loadLayerBody(spec),
        headers: admin,
      });
      if (!response.ok) throw new ConvsvcError(response.status, error);
    },
    async unloadLayer(name) {
      const { error, response } = await http.POST('/v2/repository/models/{model_name}/unload', {
        params: { path: { model_name: name } },
        body: {},
        headers: admin,
      });
      if (!response.ok) throw new ConvsvcError(response.status, error);
    },
    inferLayer(name, inputs, { pass = 'forward', parameters = {}, binary = true } = {}) {
      return infer(name, inputs, { ...parameters, pass }, { binary });
    },
    infer: (model, inputs, parameters = {}, opts = {}) => infer(model, inputs, parameters, opts),
  };
  async function infer(
    model: string,
    inputs: Readonly<Record<string, Tensor>>,
    parameters: Readonly<Record<string, string | number | boolean>>,
    { binary = true }: { binary?: boolean },
  ): Promise<Record<string, Tensor>> {
    const { request, body, headerLength } = toV2Request(inputs, parameters, { binary });
    const { data, error, response } = await http.POST('/v2/models/{model_name}/infer', {
      params: { path: { model_name: model } },
      body: request,
      ...(binary
        ? {
            bodySerializer: () => body,
            headers: { 'content-type': 'application/octet-stream', [HEADER_LENGTH]: String(headerLength) },
          }
        : {}),
      parseAs: 'arrayBuffer',
    });
    if (error !== undefined || data === undefined) throw new ConvsvcError(response.status, error);
    const declared = response.headers.get(HEADER_LENGTH);
    const bytes = new Uint8Array(data);
    return fromV2Response(bytes, declared === null ? bytes.length : Number(declared));
  }
  return client;
}
