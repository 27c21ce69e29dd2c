import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';
import { packageInfo } from '../package-info.js';

export const OPENAPI_INFO = {
  title: 'convsvc',
  version: packageInfo.version,
  description:
    '2-D convolution operators over HTTP: the transposed ("full") convolution of Torch THNN SpatialFullConvolution and the convolution of SpatialConvolutionMM, each with its forward pass and both backward passes, plus im2col / col2im. Results match PyTorch (torch.nn.functional) to float tolerance. Tensors are NCHW, float32 or float64, sent as JSON numbers (`data`) or base64 little-endian bytes (`b64`). Every error is an RFC 9457 problem document.',
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
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'Needed when the service runs with API_KEYS.' } },
      },
    },
    hideUntagged: true,
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
});
