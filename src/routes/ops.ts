import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Limits } from '../ops/types.js';
import { DeadlineExceeded, type KernelPool } from '../pool.js';
import { ProblemError, type FieldError } from '../problems.js';
import type { OutputEncoding } from '../schemas/common.js';
import { ProblemSchema } from '../schemas/problem.js';
import type { Dtype, TensorInput } from '../schemas/tensor.js';
import { decodeTensor, encodeTensor, encodingOf } from '../tensor/codec.js';
import type { FloatArray } from '../../workers/geometry.js';
import type { Task } from '../../workers/tasks.js';
import { opRoutes, type OpRoute, type TensorField } from './op-routes.js';

export interface OpRoutesOptions {
  readonly pool: KernelPool;
  readonly limits: Limits;
  readonly requestTimeoutMs: number;
}

const problem = (description: string) => ({ description, content: { 'application/problem+json': { schema: ProblemSchema } } });
const errorAnswers = {
  400: problem('Malformed JSON or a schema violation; `errors` lists the fields.'),
  401: problem('API keys are configured and the bearer token is missing or unknown.'),
  413: problem('Body over MAX_BODY_BYTES, a tensor or result over MAX_ELEMENTS, or cost over MAX_MACS.'),
  415: problem('A content type other than application/json.'),
  422: problem('Well-formed but inconsistent: channels, groups, output size, outputPadding, mixed dtypes, shapes.'),
  503: problem('Queue full or shutting down; see Retry-After.'),
  504: problem('REQUEST_TIMEOUT_MS passed; the work was cancelled.'),
};

/** The tensors a body carries, by field, in the route's order. */
function presentTensors(route: OpRoute, body: Record<string, unknown>): [TensorField, TensorInput][] {
  return route.tensors.filter((f) => body[f] != null).map((f) => [f, body[f] as TensorInput]);
}

/** All tensors of one request share one dtype (SEMANTICS.md, "Numbers"). */
function commonDtype(tensors: readonly [TensorField, TensorInput][]): Dtype {
  const [firstField, first] = tensors[0];
  const errors: FieldError[] = tensors
    .filter(([, t]) => t.dtype !== first.dtype)
    .map(([f, t]) => ({ path: `${f}.dtype`, message: `is ${t.dtype} but ${firstField}.dtype is ${first.dtype}` }));
  if (errors.length > 0) throw new ProblemError('inconsistent-request', `all tensors must share one dtype: ${errors[0].path} ${errors[0].message}`, errors);
  return first.dtype;
}

/** Aborts when the deadline passes or the client goes away, whichever comes first. */
function requestSignal(request: FastifyRequest, timeoutMs: number): { signal: AbortSignal; done: () => void } {
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new DeadlineExceeded(`the request took longer than ${timeoutMs} ms and was cancelled`)),
    timeoutMs,
  );
  const onClose = () => {
    if (!request.raw.complete || request.raw.destroyed) controller.abort(new Error('the client closed the connection'));
  };
  request.raw.socket?.once('close', onClose);
  return {
    signal: controller.signal,
    done: () => {
      clearTimeout(timer);
      request.raw.socket?.off('close', onClose);
    },
  };
}

/**
 * Every op route reads the same way: schema-checked body -> plan from shapes alone (4xx before
 * any allocation) -> admission -> decode -> worker -> encode.
 */
export async function opRoutesPlugin(app: FastifyInstance, opts: OpRoutesOptions): Promise<void> {
  const typed = app.withTypeProvider<ZodTypeProvider>();
  for (const route of opRoutes as readonly OpRoute[]) {
    typed.post(
      `/v1/${route.op}`,
      {
        schema: {
          tags: [route.op.startsWith('conv-transpose2d') ? 'conv-transpose2d' : route.op.startsWith('conv2d') ? 'conv2d' : 'columns'],
          operationId: route.op.replace(/[/-](\w)/g, (_, c: string) => c.toUpperCase()),
          summary: route.summary,
          description: route.description,
          body: route.body,
          response: { 200: { description: 'The results.', content: { 'application/json': { schema: route.answer } } }, ...errorAnswers },
        },
      },
      async (request) => {
        const body = request.body as Record<string, unknown>;
        const tensors = presentTensors(route, body);
        const dtype = commonDtype(tensors);
        const plan = route.plan(body, opts.limits);
        opts.pool.admit();

        const arrays: Partial<Record<TensorField, FloatArray>> = {};
        for (const [field, t] of tensors) arrays[field] = decodeTensor(t);
        const task: Task = {
          op: route.op,
          geometry: plan.geometry as Task['geometry'],
          dtype,
          tensors: arrays,
          ...route.gradOptions?.(body),
        };
        const { signal, done } = requestSignal(request, opts.requestTimeoutMs);
        let results;
        try {
          results = await opts.pool.run(task, signal);
        } finally {
          done();
        }

        const encoding: OutputEncoding = (body.outputEncoding as OutputEncoding | undefined) ?? encodingOf(tensors[0][1]);
        const answer: Record<string, unknown> = {};
        for (const [name, shape] of Object.entries(plan.shapes)) {
          const values = results[name as keyof typeof results];
          if (!values) throw new Error(`the worker returned no ${name}`);
          answer[name] = encodeTensor(values, shape as readonly number[], encoding);
        }
        return answer;
      },
    );
  }
}

