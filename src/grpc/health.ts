import {
  type ServerUnaryCall,
  type ServerWritableStream,
  status,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { notReadyReason } from '../routes/health.js';
import type { GrpcContext } from './inference-service.js';
import {
  type HealthCheckRequest,
  type HealthCheckResponse,
  INFERENCE_SERVICE,
  malformedReason,
  type ServingStatus,
} from './proto.js';

/** How often open Watch calls see the readiness read again. */
export const WATCH_INTERVAL_MS = 1000;
/** Watch calls open at once, at most: each holds a stream; past it, RESOURCE_EXHAUSTED. */
export const MAX_WATCHES = 1024;

/** The services Check and Watch know: the server as a whole, and the inference service. */
const KNOWN = new Set(['', INFERENCE_SERVICE]);

type Watch = ServerWritableStream<HealthCheckRequest, HealthCheckResponse> & { last?: ServingStatus };

/**
 * `grpc.health.v1.Health`: SERVING exactly when /health/ready answers 200 (src/routes/health.ts),
 * for "" and for the inference service. Open, as /health/ready is: probes carry no API key.
 * Watch sends the status, then each change, read every WATCH_INTERVAL_MS by one timer for all;
 * at shutdown every Watch gets NOT_SERVING and is ended, so none holds the drain.
 */
export class HealthService {
  readonly #ctx: GrpcContext;
  readonly #watches = new Set<Watch>();
  #timer: NodeJS.Timeout | null = null;
  #stopped = false;

  constructor(ctx: GrpcContext) {
    this.#ctx = ctx;
  }

  #status(): ServingStatus {
    if (this.#stopped) return 'NOT_SERVING';
    const { app, cluster } = this.#ctx;
    return notReadyReason(app, app.pool, cluster) === null ? 'SERVING' : 'NOT_SERVING';
  }

  get implementation(): UntypedServiceImplementation {
    return {
      Check: (
        call: ServerUnaryCall<HealthCheckRequest, HealthCheckResponse>,
        callback: (err: { code: status; details: string } | null, res?: HealthCheckResponse) => void,
      ) => {
        const malformed = malformedReason(call.request);
        if (malformed !== undefined)
          return callback({
            code: status.INVALID_ARGUMENT,
            details: `the message is not a valid HealthCheckRequest: ${malformed}`,
          });
        const service = call.request.service ?? '';
        if (!KNOWN.has(service))
          return callback({ code: status.NOT_FOUND, details: `no service ${service.slice(0, 128)}` });
        callback(null, { status: this.#status() });
      },
      Watch: (call: Watch) => this.#watch(call),
    };
  }

  #watch(call: Watch): void {
    const malformed = malformedReason(call.request);
    if (malformed !== undefined) {
      call.destroy(
        Object.assign(new Error('malformed'), {
          code: status.INVALID_ARGUMENT,
          details: `the message is not a valid HealthCheckRequest: ${malformed}`,
        }),
      );
      return;
    }
    const service = call.request.service ?? '';
    if (this.#stopped) {
      call.write({ status: 'NOT_SERVING' });
      call.end();
      return;
    }
    if (this.#watches.size >= MAX_WATCHES) {
      call.destroy(
        Object.assign(new Error('too many Watch calls'), {
          code: status.RESOURCE_EXHAUSTED,
          details: `${MAX_WATCHES} Watch calls are open; check with Check instead`,
        }),
      );
      return;
    }
    // A service it does not have stays SERVICE_UNKNOWN (the protocol's answer) until the call ends.
    if (!KNOWN.has(service)) {
      call.write({ status: 'SERVICE_UNKNOWN' });
      call.last = 'SERVICE_UNKNOWN';
    } else {
      call.last = this.#status();
      call.write({ status: call.last });
    }
    this.#watches.add(call);
    call.on('cancelled', () => this.#forget(call));
    call.on('error', () => this.#forget(call));
    this.#timer ??= setInterval(() => this.#poll(), WATCH_INTERVAL_MS).unref();
  }

  #forget(call: Watch): void {
    this.#watches.delete(call);
    if (this.#watches.size === 0 && this.#timer) {
      clearInterval(this.#timer);
      this.#timer = null;
    }
  }

  #poll(): void {
    const now = this.#status();
    for (const call of this.#watches) {
      if (call.last === 'SERVICE_UNKNOWN' || call.last === now) continue;
      call.last = now;
      call.write({ status: now });
    }
  }

  /** Shutdown: NOT_SERVING from now on; every Watch is told and ended. */
  stop(): void {
    this.#stopped = true;
    for (const call of this.#watches) {
      if (call.last !== 'SERVICE_UNKNOWN') call.write({ status: 'NOT_SERVING' });
      call.end();
    }
    this.#watches.clear();
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }
}
