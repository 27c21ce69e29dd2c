/** The page's calls to the service's own /v1 endpoints: the request for a setting, and its answer. */
import type { Geometry } from './geometry.js';

export interface OpRequest {
  readonly path: string;
  readonly body: Record<string, unknown>;
}

/** An RFC 9457 problem document, as the service writes them. */
export interface Problem {
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly errors?: readonly { path: string; message: string }[];
}

export type Answer =
  | { readonly ok: true; readonly shape: readonly number[]; readonly data: readonly number[] }
  | { readonly ok: false; readonly problem: Problem };

const tensor = (shape: number[], data: readonly number[]) => ({ shape, dtype: 'float32', data });

/** The /v1 request computing `g` on these values (one sample, one channel). */
export function requestFor(g: Geometry, input: readonly number[], kernel: readonly number[]): OpRequest {
  const s = g.settings;
  const window = { stride: s.stride, padding: s.padding, dilation: s.dilation };
  const weight = tensor([1, 1, s.kernelHeight, s.kernelWidth], kernel);
  const image = tensor([1, 1, s.height, s.width], input);
  switch (s.op) {
    case 'conv-transpose2d':
      return {
        path: '/v1/conv-transpose2d/forward',
        body: { input: image, weight, ...window, outputPadding: s.outputPadding },
      };
    case 'conv2d':
      return { path: '/v1/conv2d/forward', body: { input: image, weight, ...window } };
    case 'im2col':
      return { path: '/v1/im2col', body: { input: image, kernelSize: [s.kernelHeight, s.kernelWidth], ...window } };
    case 'col2im':
      return {
        path: '/v1/col2im',
        body: {
          columns: tensor([1, g.input.rows, g.input.cols], input),
          outputSize: [s.height, s.width],
          kernelSize: [s.kernelHeight, s.kernelWidth],
          ...window,
        },
      };
  }
}

/** JSON tensors write NaN and the infinities as strings. */
const toNumber = (v: unknown): number => (typeof v === 'number' ? v : Number(v));

/** Sends the request; a refusal comes back as the API's problem document, never as an exception. */
export async function send(req: OpRequest, signal: AbortSignal, apiKey = ''): Promise<Answer> {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    accept: 'application/json, application/problem+json',
  };
  if (apiKey) headers.authorization = `Bearer ${apiKey}`;
  const res = await fetch(req.path, { method: 'POST', headers, body: JSON.stringify(req.body), signal });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (!res.ok) {
    const p = (parsed ?? {}) as Partial<Problem>;
    return {
      ok: false,
      problem: {
        title: p.title ?? res.statusText,
        status: p.status ?? res.status,
        detail: p.detail ?? text.slice(0, 300),
        errors: p.errors,
      },
    };
  }
  const answer = parsed as Record<string, { shape: number[]; data: unknown[] }>;
  const result = answer.output ?? answer.columns;
  return { ok: true, shape: result.shape, data: result.data.map(toNumber) };
}

/** The request as a curl command line, to try the same call from a terminal. */
export const curlFor = (req: OpRequest, origin: string): string =>
  `curl -s ${origin}${req.path} -H 'content-type: application/json' -d '${JSON.stringify(req.body)}'`;
