import type { FastifyRequest } from 'fastify';
import type { FloatArray } from '../../workers/geometry.js';
import type { ResultName, Task } from '../../workers/tasks.js';
import type { Limits, Shape } from '../ops/types.js';
import { ClientClosed, DeadlineExceeded, type KernelPool } from '../pool.js';
import { type FieldError, ProblemError } from '../problems.js';
import type { RequestAdmission } from '../request-admission.js';
import { BYTES_PER_ELEMENT, type Dtype, elementCount } from '../schemas/tensor.js';
import { planSplit } from '../split.js';
import type { Values } from '../tensor/pieces.js';
import type { OpRoute, TensorField } from './op-routes.js';

/**
 * A request tensor before decoding: its shape and dtype are known (and planned against) before
 * `decode` allocates anything. /v1 tensors come from JSON or base64, /v2 ones from JSON or the
 * binary extension; the op runs the same either way.
 */
export interface TensorSource {
  readonly shape: readonly number[];
  readonly dtype: Dtype;
  /** false when the request left dtype to its default; absent where a protocol always states it. */
  readonly dtypeGiven?: boolean;
  /** A typed array over a buffer of its own (it is moved to a worker). */
  decode(): FloatArray;
}

export interface OpContext {
  readonly pool: KernelPool;
  readonly limits: Limits;
  readonly requestTimeoutMs: number;
}

export interface OpOutcome {
  readonly dtype: Dtype;
  readonly results: Readonly<Partial<Record<ResultName, Values>>>;
  /** The shape of every result the op answers with, by its API name. */
  readonly shapes: Readonly<Partial<Record<ResultName, Shape>>>;
}

/**
/**
 * A caller over another transport than HTTP (gRPC, src/grpc/): its admission, and a signal that
 * aborts when it cancels the call.
 */
export interface OpCaller {
  readonly admission: RequestAdmission;
  readonly cancelled: AbortSignal;
}

/**
 * All tensors of one request share one dtype (docs/semantics.md, "Numbers"). A mismatch is
 * measured against the first tensor that took the default dtype, if one did, so that the fields
 * blamed are ones the request set, and the default is named as such.
 */
function commonDtype(tensors: readonly (readonly [TensorField, TensorSource])[]): Dtype {
  const [refField, ref] = tensors.find(([, t]) => t.dtypeGiven === false) ?? tensors[0];
  const refDtype = `${refField}.dtype is ${ref.dtype}${ref.dtypeGiven === false ? ' (the default)' : ''}`;
  const errors: FieldError[] = tensors
    .filter(([, t]) => t.dtype !== ref.dtype)
    .map(([f, t]) => ({ path: `${f}.dtype`, message: `is ${t.dtype} but ${refDtype}` }));
  if (errors.length > 0)
    throw new ProblemError(
      'inconsistent-request',
      `all tensors must share one dtype: ${errors[0].path} ${errors[0].message}`,
      errors,
    );
  return ref.dtype;
}

/**
 * Aborts when the deadline passes or the client goes away, whichever comes first. The deadline
 * runs from the request's first byte: the time its body took to arrive is its own.
 */
function requestSignal(
  request: FastifyRequest | OpCaller,
  timeoutMs: number,
): { signal: AbortSignal; done: () => void } {
  const controller = new AbortController();
  const remaining = request.admission?.remainingMs() ?? timeoutMs;
  const timer = setTimeout(
    () => controller.abort(new DeadlineExceeded(`the request took longer than ${timeoutMs} ms and was cancelled`)),
    remaining,
  );
  if (!('raw' in request)) {
    const onCancel = () => controller.abort(new ClientClosed());
    if (request.cancelled.aborted) onCancel();
    else request.cancelled.addEventListener('abort', onCancel, { once: true });
    return {
      signal: controller.signal,
      done: () => {
        clearTimeout(timer);
        request.cancelled.removeEventListener('abort', onCancel);
      },
    };
  }
  const onClose = () => {
    if (!request.raw.complete || request.raw.destroyed) controller.abort(new ClientClosed());
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

/** The bytes of every result tensor of a plan. */
const resultBytes = (shapes: OpOutcome['shapes'], dtype: Dtype): number =>
  Object.values(shapes).reduce((sum, shape) => sum + elementCount(shape!) * BYTES_PER_ELEMENT[dtype], 0);

/**
 * One op, whatever protocol carried it: dtype check -> plan from shapes alone (4xx before any
 * allocation) -> admission -> decode -> worker. `body` holds the route's parsed (v1-named) fields;
 * `tensors` the tensor fields present, in the route's order. A task run inline is answered at
 * once, not as a promise (a refusal is thrown): the small op's request takes no turn of the
 * microtask queue for it.
 */
export function executeOp(
  route: OpRoute,
  body: Record<string, unknown>,
  tensors: readonly (readonly [TensorField, TensorSource])[],
  ctx: OpContext,
  request: FastifyRequest | OpCaller,
): OpOutcome | Promise<OpOutcome> {
  const dtype = commonDtype(tensors);
  const plan = route.plan(body, ctx.limits);
  request.admission?.answer(resultBytes(plan.shapes, dtype));
  ctx.pool.admit();

  const arrays: Partial<Record<TensorField, FloatArray>> = {};
  for (const [field, t] of tensors) arrays[field] = t.decode();
  const task: Task = {
    op: route.op,
    geometry: plan.geometry as Task['geometry'],
    dtype,
    tensors: arrays,
    ...route.gradOptions?.(body),
  };
  if (ctx.pool.runsInline(task)) return { dtype, results: ctx.pool.runInline(task), shapes: plan.shapes };
  return runOffLoop(task, dtype, plan.shapes, ctx, request);
}

async function runOffLoop(
  task: Task,
  dtype: Dtype,
  shapes: OpOutcome['shapes'],
  ctx: OpContext,
  request: FastifyRequest | OpCaller,
): Promise<OpOutcome> {
  const { signal, done } = requestSignal(request, ctx.requestTimeoutMs);
  try {
    return { dtype, results: await runOnPool(task, ctx.pool, signal), shapes };
  } finally {
    done();
  }
}

/**
 * The one place the pool's workers are called: a task large enough to share runs as one part per
 * worker, concurrently, and the parts' results are combined (src/split.ts); any other runs whole.
 */
async function runOnPool(
  task: Task,
  pool: KernelPool,
  signal: AbortSignal,
): Promise<Partial<Record<ResultName, Values>>> {
  const split = planSplit(task, pool.parallelism);
  if (split === null) return pool.run(task, signal);
  return split.merge(await Promise.all(split.parts.map((part) => pool.run(part, signal))));
}
