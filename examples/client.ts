/**
 * convsvc from TypeScript with the typed client: /v1 with base64 tensors through the generated
 * types, /v2 with the binary tensor data extension, and a check that both agree.
 *
 *     CONVSVC_URL=http://localhost:8080 npx tsx examples/client.ts
 *
 * In a project of your own, import from 'convsvc/client' instead of the relative path.
 */
import { createConvsvcClient, fromV1Answer, tensor, toV1Tensor } from '../client/index.js';

const convsvc = createConvsvcClient({
  baseUrl: process.env.CONVSVC_URL ?? 'http://localhost:8080',
  apiKey: process.env.CONVSVC_API_KEY,
});

let seed = 7;
const random = (n: number) =>
  Float32Array.from({ length: n }, () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1);

const x = tensor(random(2 * 3 * 8 * 8), [2, 3, 8, 8]);
const w = tensor(random(4 * 3 * 3 * 3), [4, 3, 3, 3]);

// /v1: the body is checked against the OpenAPI types at compile time.
const { data, error } = await convsvc.http.POST('/v1/conv2d/forward', {
  body: { input: toV1Tensor(x), weight: toV1Tensor(w), stride: 2, padding: 1 },
});
if (error) throw new Error(`/v1 refused: ${error.detail}`);
const v1 = fromV1Answer(data).output;
console.log(`/v1 conv2d/forward (base64): output [${v1.shape.join(', ')}]`);

// /v2: model names are typed too; tensors travel in the binary section both ways.
const { output: v2 } = await convsvc.infer(
  'conv2d',
  { input: x, weight: w },
  { stride_h: 2, stride_w: 2, padding_h: 1, padding_w: 1 },
);
console.log(`/v2 conv2d (binary):         output [${v2.shape.join(', ')}]`);

const same = v1.values.length === v2.values.length && v1.values.every((v, i) => Object.is(v, v2.values[i]));
if (!same) throw new Error('/v1 and /v2 disagree');
console.log('/v1 and /v2 agree bit for bit');
