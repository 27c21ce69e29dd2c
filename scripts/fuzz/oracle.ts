/**
 * What the fuzzer accepts as an answer: a 4xx problem document, or a 200 whose tensors are
 * whole (data or base64 matching shape and dtype) and, for the forward ops and im2col, shaped as
 * an independent formula (written here from docs/semantics.md, not imported from src/ops) says.
 */

export interface Answer {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
}

type Tensor = { shape: number[]; dtype?: string; data?: unknown[]; b64?: string };

// null is "not given", as the API schema reads it.
const pair = (v: unknown, dflt: number): [number, number] =>
  Array.isArray(v) ? [Number(v[0]), Number(v[1])] : v == null ? [dflt, dflt] : [Number(v), Number(v)];

/** The output shape the op must answer with, or undefined where the fuzzer does not model it. */
export function expectedShapes(route: string, body: Record<string, unknown>): Record<string, number[]> | undefined {
  const input = body.input as Tensor | undefined;
  if (!input) return undefined;
  const s = pair(body.stride, 1),
    p = pair(body.padding, 0),
    d = pair(body.dilation, 1);
  const batched = input.shape.length === 4;
  const [c, h, w] = input.shape.slice(-3);
  const lead = batched ? [input.shape[0]] : [];
  if (route === 'conv2d/forward') {
    const [o, , kh, kw] = (body.weight as Tensor).shape;
    const ho = Math.floor((h + 2 * p[0] - d[0] * (kh - 1) - 1) / s[0]) + 1;
    const wo = Math.floor((w + 2 * p[1] - d[1] * (kw - 1) - 1) / s[1]) + 1;
    return { output: [...lead, o, ho, wo] };
  }
  if (route === 'conv-transpose2d/forward') {
    const [, og, kh, kw] = (body.weight as Tensor).shape;
    const g = Number(body.groups ?? 1),
      op = pair(body.outputPadding, 0);
    const ho = (h - 1) * s[0] - 2 * p[0] + d[0] * (kh - 1) + op[0] + 1;
    const wo = (w - 1) * s[1] - 2 * p[1] + d[1] * (kw - 1) + op[1] + 1;
    return { output: [...lead, og * g, ho, wo] };
  }
  if (route === 'im2col') {
    const [kh, kw] = pair(body.kernelSize, 1);
    const ho = Math.floor((h + 2 * p[0] - d[0] * (kh - 1) - 1) / s[0]) + 1;
    const wo = Math.floor((w + 2 * p[1] - d[1] * (kw - 1) - 1) / s[1]) + 1;
    return { columns: [...lead, c * kh * kw, ho * wo] };
  }
  return undefined;
}

/** The most a problem document may weigh, whatever the body broke (src/plugins/error-handler.ts caps it lower). */
export const MAX_PROBLEM_BYTES = 64 * 1024;

/** Why the answer to a request sent without its API key is wrong: anything but a refusal of the target. */
export function judgeWithoutKey(answer: Answer): string | null {
  if (answer.status === 401 || answer.status === 404) return null;
  if (answer.status === 400 && /origin form|not valid HTTP|URL is not valid/.test(answer.body)) return null;
  return `answered ${answer.status} without an API key`;
}

/** Why an answer is wrong, or null when it is acceptable. */
export function judge(route: string, requestBody: string, answer: Answer): string | null {
  if (answer.status !== 200 && Buffer.byteLength(answer.body) > MAX_PROBLEM_BYTES)
    return `a problem document of ${Buffer.byteLength(answer.body)} bytes`;
  if (answer.status >= 500 || answer.status < 200 || (answer.status > 200 && answer.status < 400))
    return `status ${answer.status}`;
  if (/\bat [\w.<>]+ \(|node:internal|\/work\/|\.ts:\d|\.js:\d/.test(answer.body))
    return 'the answer leaks a stack trace or a path';
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(answer.body) as Record<string, unknown>;
  } catch {
    return 'the answer is not JSON';
  }
  if (answer.status !== 200) {
    if (!answer.contentType.startsWith('application/problem+json'))
      return `a ${answer.status} of type ${answer.contentType}`;
    if (
      doc.status !== answer.status ||
      typeof doc.type !== 'string' ||
      typeof doc.title !== 'string' ||
      typeof doc.detail !== 'string' ||
      typeof doc.requestId !== 'string'
    ) {
      return 'a malformed problem document';
    }
    return null;
  }
  for (const [name, t] of Object.entries(doc)) {
    const tensor = t as Tensor;
    if (!Array.isArray(tensor?.shape)) return `${name} has no shape`;
    const n = tensor.shape.reduce((a, b) => a * b, 1);
    const bytes = tensor.dtype === 'float64' ? 8 : 4;
    if (tensor.data !== undefined && tensor.data.length !== n)
      return `${name} has ${tensor.data.length} values for shape [${tensor.shape}]`;
    if (tensor.b64 !== undefined && Buffer.from(tensor.b64, 'base64').length !== n * bytes)
      return `${name}'s base64 does not fit shape [${tensor.shape}]`;
  }
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(requestBody) as Record<string, unknown>;
  } catch {
    return 'a 200 to a body that is not JSON';
  }
  // docs/api.md: base64 is RFC 4648's canonical form; anything else must have been refused.
  for (const [name, t] of Object.entries(body)) {
    const b64 = (t as Tensor | null)?.b64;
    if (typeof b64 === 'string' && Buffer.from(b64, 'base64').toString('base64') !== b64)
      return `a 200 to non-canonical base64 in ${name}`;
  }
  const expected = expectedShapes(route, body);
  for (const [name, shape] of Object.entries(expected ?? {})) {
    const got = (doc[name] as Tensor | undefined)?.shape;
    if (JSON.stringify(got) !== JSON.stringify(shape)) return `${name} has shape [${got}], expected [${shape}]`;
  }
  return null;
}
