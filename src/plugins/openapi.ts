import helmet from '@fastify/helmet';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { packageInfo } from '../package-info.js';

export const OPENAPI_INFO = {
  title: 'convsvc',
  version: packageInfo.version,
  description:
    '2-D convolution operators over HTTP: the transposed ("full") convolution of Torch THNN SpatialFullConvolution and the convolution of SpatialConvolutionMM, each with its forward pass and both backward passes, plus im2col / col2im. Results match PyTorch (torch.nn.functional) to float tolerance. Tensors are NCHW, float32 or float64, sent as JSON numbers (`data`) or base64 little-endian bytes (`b64`). Every error is an RFC 9457 problem document.',
};

type Doc = { components?: { schemas?: Record<string, unknown> } } & Record<string, unknown>;

const REF = /"#\/components\/schemas\/([^"]+)"/g;

/**
 * zod registers every schema with an id twice, as read (`TensorInput`) and as written (`Tensor`).
 * Keep only the components the paths reach, under their plain names, so generated clients get
 * one type per concept.
 */
export function tidyComponents<D extends Doc>(doc: D): D {
  const schemas = doc.components?.schemas ?? {};
  const { components, ...rest } = doc;
  const reached = new Set<string>();
  const pending = [...JSON.stringify(rest).matchAll(REF)].map((m) => m[1]);
  while (pending.length > 0) {
    const name = pending.pop()!;
    if (reached.has(name) || !(name in schemas)) continue;
    reached.add(name);
    for (const m of JSON.stringify(schemas[name]).matchAll(REF)) pending.push(m[1]);
  }
  const rename = (name: string) =>
    name.endsWith('Input') && !reached.has(name.slice(0, -'Input'.length)) ? name.slice(0, -'Input'.length) : name;
  const kept = Object.fromEntries([...reached].sort().map((name) => [rename(name), schemas[name]]));
  const text = JSON.stringify({ ...rest, components: { ...components, schemas: kept } }).replace(
    REF,
    (_, name: string) => `"#/components/schemas/${rename(name)}"`,
  );
  return JSON.parse(text) as D;
}

/**
 * jsonSchemaTransform, plus each body schema's `examples` (zod metadata) at the top of the body,
 * where @fastify/swagger turns them into the request's media-type example.
 */
const withBodyExamples: typeof jsonSchemaTransform = (args) => {
  const out = jsonSchemaTransform(args);
  const body = args.schema?.body;
  const examples = body instanceof z.ZodType ? z.globalRegistry.get(body)?.examples : undefined;
  if (examples && out.schema?.body) (out.schema.body as Record<string, unknown>).examples = examples;
  return out;
};

/** The OpenAPI document, generated from the routes' zod schemas, and Swagger UI at /docs. */
export default fp(async function openapiPlugin(app: FastifyInstance) {
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: OPENAPI_INFO,
      tags: [
        { name: 'conv-transpose2d', description: 'Transposed convolution (SpatialFullConvolution).' },
        { name: 'conv2d', description: 'Convolution (SpatialConvolutionMM).' },
        { name: 'columns', description: 'im2col / col2im (torch unfold / fold).' },
        { name: 'service', description: 'Health and problem types.' },
      ],
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'Needed when the service runs with API_KEYS.' },
        },
      },
    },
    hideUntagged: true,
    transform: withBodyExamples,
    transformObject: (input) =>
      tidyComponents(jsonSchemaTransformObject(input) as Doc) as ReturnType<typeof jsonSchemaTransformObject>,
  });
  // Swagger UI is the one HTML page the service serves: it gets a browser's security headers
  // (CSP, frame-ancestors, nosniff, ...) in a context of its own, so JSON answers stay lean.
  await app.register(async (docs) => {
    await docs.register(helmet);
    await docs.register(swaggerUi, { routePrefix: '/docs' });
  });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
});
