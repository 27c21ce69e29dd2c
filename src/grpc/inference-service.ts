import { randomUUID } from 'node:crypto';
import type {
  Metadata,
  ServerErrorResponse,
  ServerUnaryCall,
  sendUnaryData,
  UntypedServiceImplementation,
} from '@grpc/grpc-js';
import type { FastifyInstance } from 'fastify';
import type { ClusterLink } from '../cluster/link.js';
import type { Config } from '../config.js';
import { type BodyCost, HELD_PER_BODY_BYTE } from '../memory-model.js';
import type { StoredLayer } from '../models/layer.js';
import { packageInfo } from '../package-info.js';
import { guardKeys, guardRefusal, tokenOf } from '../plugins/auth.js';
import type { Metrics } from '../plugins/metrics.js';
import { clientKey, type RateCounts, rateLimited } from '../plugins/rate-limit.js';
import { RETRY_AFTER_SECONDS } from '../pool.js';
import { ProblemError } from '../problems.js';
import { RequestAdmission } from '../request-admission.js';
import type { Guard } from '../route-guards.js';
import type { OpContext } from '../routes/execute-op.js';
import { overload } from '../routes/health.js';
import { V2Error } from '../v2/errors.js';
import { recordInference, runInference } from '../v2/infer.js';
import { findModel, type Model } from '../v2/models.js';
import { checkModelOrLayer } from '../v2/route-schemas.js';
import { EXTENSIONS, layerMetadataOf, modelMetadataOf, notReady } from '../v2/routes.js';
import type { StoredLayers } from '../v2/stored-layers.js';
import { inferenceRequestOf, inferResponseOf } from './infer-messages.js';
import { adoptAdmission, callTimeoutMs } from './message-intake.js';
import {
  INFERENCE_SERVICE,
  type ModelInferRequest,
  type ModelMetadataResponse,
  type ModelRequest,
  malformedReason,
  oversizeReason,
} from './proto.js';
import { repositoryCalls } from './repository-calls.js';
import { grpcRefusal, internalError } from './status.js';

export interface GrpcContext {
  /** The app whose pool, memory budget, uploads, pressure and log the calls share. */
  readonly app: FastifyInstance;
  readonly config: Config;
  /** The rate limit's counts, shared with REST (src/plugins/rate-limit.ts). */
  readonly rates: RateCounts;
  readonly cluster?: ClusterLink;
  /** The stored layers, the same store /v2 serves, and the service-wide changes to them (src/v2/stored-layers.ts). */
  readonly stored: StoredLayers;
  /** Where every call is counted and timed (src/grpc/call-metrics.ts). */
  readonly metrics: Metrics;
}

const REQUEST_ID = /^[\w.:-]{1,128}$/;

/** A call's id, as REST's x-request-id: the caller's own when it looks like one. */
function callIdOf(metadata: Metadata): string {
  const given = metadata.get('x-request-id')[0];
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
}

/** The address part of a peer (`1.2.3.4:5678`, `::1:5678`): REST's request.ip. */
export const peerAddress = (peer: string): string => {
  const colon = peer.lastIndexOf(':');
  return colon > 0 ? peer.slice(0, colon) : peer;
};

/**
 * The key each RPC of the inference service needs, as REST's routes do (src/route-guards.ts):
 * ModelInfer is an op, loads and unloads are administrative, every other RPC the API's; the
 * health service needs none.
 */
const RPC_GUARDS: Readonly<Record<string, Guard>> = {
  ModelInfer: 'op',
  RepositoryModelLoad: 'admin',
  RepositoryModelUnload: 'admin',
};

/** The guard of a call by its path (`/package.Service/Method`). */
function guardOfCall(path: string): Guard | undefined {
  const prefix = `/${INFERENCE_SERVICE}/`;
  return path.startsWith(prefix) ? (RPC_GUARDS[path.slice(prefix.length)] ?? 'api') : undefined;
}

/**
 * Why a call of `path` with this metadata may not be made (REST's rule: src/plugins/auth.ts), or
 * null: the one check of a call's key, made from its headers by the message intake and again by
 * the handler, should the intake not see the call.
 */
export function callKeyRefusal(config: Config): (path: string, metadata: Metadata) => ProblemError | null {
  const keysOf = guardKeys({ apiKeys: config.apiKeys, metricsKeys: [], adminKeys: config.adminApiKeys });
  return (path, metadata) => guardRefusal(keysOf, guardOfCall(path), authorizationOf(metadata));
}

const authorizationOf = (metadata: Metadata): string | undefined => {
  const v = metadata.get('authorization')[0];
  return typeof v === 'string' ? v : undefined;
};

/** What a decoded ModelInferRequest holds (src/memory-model.ts): raw bytes as /v2 binary ones, typed values as JSON numbers. */
function messageCost(message: ModelInferRequest): BodyCost {
  let raw = 0;
  for (const b of message.raw_input_contents) raw += b.length;
  let typed = 0;
  for (const input of message.inputs)
    for (const values of Object.values(input.contents ?? {})) typed += (values as unknown[]).length * 8;
  return {
    bytes: Math.ceil(raw * HELD_PER_BODY_BYTE.binary + typed * HELD_PER_BODY_BYTE.jsonNumbers),
    tensorBytes: raw + typed,
    answer: 'binary',
  };
}

/** A call's handler; `finally` registers what to do once its answer or status has been handed to grpc-js. */
export type Handler<Req, Res> = (
  call: ServerUnaryCall<Req, Res>,
  finally_: (f: () => void) => void,
) => Res | Promise<Res>;

/**
 * `inference.GRPCInferenceService` over the same pipeline and store of layers as /v2 (src/v2/):
 * every RPC needs an API key when API_KEYS is set, as every /v2 route does, and loads and
 * unloads an administrative one, as REST's; ModelInfer is an op (rate limit, load shedding,
 * admission, memory budget, deadline, kernels), the others are not.
 */
export function inferenceService(ctx: GrpcContext): UntypedServiceImplementation {
  const { app, config } = ctx;
  const keyRefusal = callKeyRefusal(config);
  const keyed = config.apiKeys.length > 0;
  const { layers } = ctx.stored;
  const { registry, stats } = layers;

  /**
   * A unary handler: the key its guard needs first (REST's rule: src/plugins/auth.ts); refusals
   * as gRPC statuses, failures of ours logged.
   */
  const unary =
    <Req, Res>(rpc: string, handler: Handler<Req, Res>) =>
    (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>): void => {
      const path = `/${INFERENCE_SERVICE}/${rpc}`;
      const started = performance.now();
      const callId = callIdOf(call.metadata);
      const cleanups: (() => void)[] = [];
      // Once, even should the answer's callback throw and the call then fail.
      const done = () => {
        for (const f of cleanups.splice(0)) f();
      };
      const fail = (err: unknown) => {
        const refusal = grpcRefusal(err);
        if (refusal) {
          app.log.info({ rpc, callId, code: refusal.code, detail: refusal.details }, 'gRPC call refused');
          callback(refusal);
        } else {
          app.log.error({ rpc, callId, err }, 'gRPC call failed');
          callback(internalError(callId) as ServerErrorResponse);
        }
        done();
      };
      const succeed = (answer: Res) => {
        // grpc-js serialises the answer in the callback: what the call holds is given back after.
        callback(null, answer);
        done();
        // As Fastify's 'request completed' line for HTTP.
        app.log.info({ rpc, callId, responseTime: performance.now() - started }, 'gRPC call completed');
      };
      try {
        // The key first (src/grpc/message-intake.ts has refused a call without it from its
        // headers; here too should the intake not see the call): strangers learn nothing.
        const refusal = keyRefusal(path, call.metadata);
        if (refusal) throw refusal;
        const oversize = oversizeReason(call.request);
        if (oversize !== undefined) throw new V2Error(413, oversize);
        const malformed = malformedReason(call.request);
        if (malformed !== undefined)
          throw new V2Error(400, `the message is not a valid request of ${rpc}: ${malformed}`);
        const answer = handler(call, (f) => cleanups.push(f));
        if (answer instanceof Promise) answer.then(succeed, fail);
        else succeed(answer);
      } catch (err) {
        fail(err);
      }
    };

  const countRate = async (call: ServerUnaryCall<unknown, unknown>): Promise<void> => {
    if (config.rateLimitMax === 0) return;
    const key = clientKey(keyed ? tokenOf(authorizationOf(call.metadata)) : null, peerAddress(call.getPeer()));
    let count: { current: number; ttl: number };
    try {
      count = await ctx.rates(key, config.rateLimitWindowMs, config.rateLimitMax);
    } catch (err) {
      // As REST: should the primary not answer (it is gone, this process drains), calls pass.
      if (ctx.cluster) return;
      throw err;
    }
    if (count.current > config.rateLimitMax)
      throw rateLimited(config.rateLimitMax, config.rateLimitWindowMs, count.ttl);
  };

  /** A built-in model or a serving layer, or NOT_FOUND with REST's message. */
  const targetNamed = (name: string, version: string | undefined): Model | StoredLayer => {
    checkModelOrLayer(name, version || undefined, (n) => registry.get(n) !== undefined, whyNotServing);
    const target = findModel(name) ?? registry.get(name);
    if (!target) throw new V2Error(404, `model ${name.slice(0, 64)} was unloaded`);
    return target;
  };
  const whyNotServing = (name: string) => registry.index().find((e) => e.name === name)?.reason;

  const repository = repositoryCalls({ ...ctx, targetNamed });

  const modelInfer: Handler<ModelInferRequest, Buffer> = async (call, finally_) => {
    const startedAt = performance.now();
    const message = call.request;
    const name = message.model_name ?? '';
    // The layer this call runs with, held to its end whatever loads and unloads meanwhile.
    const target = targetNamed(name, message.model_version);
    await countRate(call);
    if (app.isUnderPressure())
      throw new ProblemError('unavailable', `the service is overloaded (${overload(app)}); retry later`, undefined, {
        'retry-after': RETRY_AFTER_SECONDS,
      });
    app.pool.refuseIfFull();
    const timeoutMs = callTimeoutMs(config.requestTimeoutMs, call.getDeadline());
    const cost = messageCost(message);
    // Charged since its first byte arrived (src/grpc/message-intake.ts), from here as a whole;
    // given back once the answer has been taken (the intake's release) and this call is done.
    const admission =
      adoptAdmission(call.metadata) ??
      new RequestAdmission(
        { pool: app.pool, budget: app.memoryBudget, uploads: app.uploads, requestTimeoutMs: timeoutMs },
        { bytes: cost.bytes, declared: 1 },
        startedAt,
      );
    const cancelled = new AbortController();
    const onCancel = () => cancelled.abort();
    call.once('cancelled', onCancel);
    finally_(() => {
      call.off('cancelled', onCancel);
      admission.release();
    });
    admission.bodyComplete(cost);
    admission.takeSlot();
    const { header, binary } = inferenceRequestOf(message);
    const opCtx: OpContext = {
      pool: app.pool,
      limits: { maxElements: config.maxElements, maxMacs: config.maxMacs },
      requestTimeoutMs: Math.round(timeoutMs),
    };
    return recordInference(
      stats,
      name,
      header,
      () => runInference(target, header, binary, opCtx, { admission, cancelled: cancelled.signal }, true),
      (inference) => inferResponseOf(inference.view, header, inference),
    );
  };

  return {
    ServerLive: unary('ServerLive', () => ({ live: true })),
    ServerReady: unary('ServerReady', () => ({ ready: notReady(app.pool) === null })),
    ServerMetadata: unary('ServerMetadata', () => ({
      name: packageInfo.name,
      version: packageInfo.version,
      extensions: EXTENSIONS,
    })),
    ModelReady: unary<ModelRequest, { ready: boolean }>('ModelReady', (call) => {
      targetNamed(call.request.name ?? '', call.request.version);
      return { ready: notReady(app.pool) === null };
    }),
    ModelMetadata: unary<ModelRequest, ModelMetadataResponse>('ModelMetadata', (call) => {
      const target = targetNamed(call.request.name ?? '', call.request.version);
      if ('route' in target) return modelMetadataOf(target);
      // What each pass takes and the fixed parameters (REST's `parameters`) have no field here.
      const { parameters: _, ...metadata } = layerMetadataOf(target);
      return metadata;
    }),
    ModelInfer: unary('ModelInfer', modelInfer),
    RepositoryIndex: unary('RepositoryIndex', repository.RepositoryIndex),
    ModelConfig: unary('ModelConfig', repository.ModelConfig),
    ModelStatistics: unary('ModelStatistics', repository.ModelStatistics),
    RepositoryModelLoad: unary('RepositoryModelLoad', repository.RepositoryModelLoad),
    RepositoryModelUnload: unary('RepositoryModelUnload', repository.RepositoryModelUnload),
  };
}
