import type { IncomingMessage } from 'node:http';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { bodyBytesParser } from '../body-bytes.js';
import type { OutputEncoding } from '../schemas/common.js';
import { ProblemSchema } from '../schemas/problem.js';
import { dtypeGiven, type TensorInput } from '../schemas/tensor.js';
import { answerJson } from '../tensor/answer-json.js';
import { decodeTensor, encodingOf } from '../tensor/codec.js';
import type { DecodedBase64 } from '../tensor/json-body.js';
import { JsonBodyParser } from '../tensor/off-loop-parse.js';
import { executeOp, type OpContext, type OpOutcome, type TensorSource } from './execute-op.js';
import { type OpRoute, opRoutes, type TensorField } from './op-routes.js';

export type OpRoutesOptions = OpContext;

const problem = (description: string) => ({
  description,
  content: { 'application/problem+json': { schema: ProblemSchema } },
});
const errorAnswers = {
  400: problem('Malformed JSON or a schema violation; `errors` lists the fields.'),
  401: problem('API keys are configured and the bearer token is missing or unknown.'),
  408: problem(
    'The body arrived slower than MIN_BODY_BYTES_PER_SECOND, or not within REQUEST_TIMEOUT_MS; the connection is closed.',
  ),
  413: problem(
    'Body over MAX_BODY_BYTES, a tensor or result over MAX_ELEMENTS, cost over MAX_MACS, or more memory than MEMORY_BUDGET_BYTES could ever hold.',
  ),
  415: problem('A content type other than application/json.'),
  422: problem('Well-formed but inconsistent: channels, groups, output size, outputPadding, mixed dtypes, shapes.'),
  503: problem('Queue full, memory budget taken by requests in flight, or shutting down; see Retry-After.'),
  504: problem('REQUEST_TIMEOUT_MS passed; the work was cancelled.'),
};

/** The tensor fields a /v1 body carries, in the route's order, ready to be planned and decoded. */
function presentTensors(
  route: OpRoute,
  body: Record<string, unknown>,
  decoded: DecodedBase64 | null,
): [TensorField, TensorSource][] {
  return route.tensors
    .filter((f) => body[f] != null)
    .map((f) => {
      const t = body[f] as TensorInput;
      return [
        f,
        { shape: t.shape, dtype: t.dtype, dtypeGiven: dtypeGiven(t), decode: () => decodeTensor(t, f, decoded) },
      ];
    });
}

/** Sends the results in the requested encoding (by default the first tensor's); a large answer is built over several turns of the event loop. */
function answer(
  reply: FastifyReply,
  body: Record<string, unknown>,
  tensors: readonly [TensorField, TensorSource][],
  { results, shapes }: OpOutcome,
): FastifyReply | Promise<FastifyReply> {
  const encoding: OutputEncoding =
    (body.outputEncoding as OutputEncoding | undefined) ?? encodingOf(body[tensors[0][0]] as TensorInput);
  const entries = Object.entries(shapes).map(([name, shape]) => {
    const values = results[name as keyof typeof results];
    if (!values) throw new Error(`the worker returned no ${name}`);
    return { name, values, shape: shape as readonly number[] };
  });
  const typed = reply.type('application/json; charset=utf-8');
  const text = answerJson(entries, encoding);
  return text instanceof Promise ? text.then((t) => typed.send(t)) : typed.send(text);
}

/** The /v1 op routes: schema-checked JSON body -> executeOp -> results in the requested encoding. */
export async function opRoutesPlugin(app: FastifyInstance, opts: OpRoutesOptions): Promise<void> {
  // Bodies keep their decoded base64 here, by request, until the route takes it.
  const decodedBodies = new WeakMap<IncomingMessage, DecodedBase64>();
  const bodies = new JsonBodyParser('v1');
  app.addHook('onClose', async () => bodies.close());
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser(
    'application/json',
    bodyBytesParser((request, body, done) => {
      bodies.parse(
        body,
        (err, parsed) => {
          if (err) return done(err, undefined);
          if (parsed!.decoded) decodedBodies.set(request.raw, parsed!.decoded);
          done(null, parsed!.value);
        },
        () => request.routeOptions.url?.slice('/v1/'.length),
        (extra) => request.admission?.parsing(extra),
      );
    }),
  );

  const typed = app.withTypeProvider<ZodTypeProvider>();
  for (const route of opRoutes as readonly OpRoute[]) {
    typed.post(
      `/v1/${route.op}`,
      {
        config: { guard: 'op' },
        schema: {
          tags: [
            route.op.startsWith('conv-transpose2d')
              ? 'conv-transpose2d'
              : route.op.startsWith('conv2d')
                ? 'conv2d'
                : 'columns',
          ],
          operationId: route.op.replace(/[/-](\w)/g, (_, c: string) => c.toUpperCase()),
          summary: route.summary,
          description: route.description,
          body: route.body,
          response: {
            200: { description: 'The results.', content: { 'application/json': { schema: route.answer } } },
            ...errorAnswers,
          },
        },
      },
      (request, reply) => {
        const body = request.body as Record<string, unknown>;
        const tensors = presentTensors(route, body, decodedBodies.get(request.raw) ?? null);
        const outcome = executeOp(route, body, tensors, opts, request);
        // A small op is answered before the handler returns: no promise for Fastify to wait on.
        if (outcome instanceof Promise) return outcome.then((o) => answer(reply, body, tensors, o));
        const sent = answer(reply, body, tensors, outcome);
        return sent instanceof Promise ? sent : undefined;
      },
    );
  }
}
