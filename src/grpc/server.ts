import type { Http2Server, Http2Session, Settings } from 'node:http2';
import { Server, ServerCredentials } from '@grpc/grpc-js';
import { HealthService } from './health.js';
import { type GrpcContext, inferenceService } from './inference-service.js';
import { healthServiceDefinition, inferenceServiceDefinition } from './proto.js';

/**
 * HTTP/2 receive windows: Node's default, which grpc-js keeps and has no server option for, is
 * 64 KiB, so a DCGAN request (3 MiB) waited on some fifty window updates, and took 1.5-2x the
 * time of the same request over HTTP/1.1. The windows are widened to this (or MAX_BODY_BYTES,
 * if smaller) through grpc-js's internals; should they change, the defaults stand (slower, not
 * wrong). A window bounds only what a client may send before the server reads it, and grpc-js
 * reads at once, up to grpc.max_receive_message_length a message.
 */
export const MAX_RECEIVE_WINDOW = 16 * 2 ** 20;

type Internals = {
  commonServerOptions?: { settings?: Settings };
  http2Servers?: Map<Http2Server, unknown>;
};

/** Each stream's window: the SETTINGS every new connection is sent. */
function widenStreamWindow(server: Server, bytes: number): void {
  const options = (server as unknown as Internals).commonServerOptions;
  if (options) options.settings = { ...options.settings, initialWindowSize: bytes };
}

/** Each connection's window, as it opens: on every listener bound so far. */
function widenSessionWindows(server: Server, bytes: number): void {
  for (const http2Server of (server as unknown as Internals).http2Servers?.keys() ?? []) {
    if ((http2Server as Http2Server & { [WIDENED]?: true })[WIDENED]) continue;
    (http2Server as Http2Server & { [WIDENED]?: true })[WIDENED] = true;
    http2Server.on('session', (session: Http2Session) => {
      try {
        session.setLocalWindowSize(bytes);
      } catch {
        // A session already closing: nothing to widen.
      }
    });
  }
}

const WIDENED = Symbol('widened');

/**
 * The service's gRPC server (GRPC_PORT): the Open Inference Protocol's
 * `inference.GRPCInferenceService` and `grpc.health.v1.Health`, beside the HTTP server and over
 * the same app (pool, memory budget, limits). With several server processes each one listens,
 * and node:cluster shares the port as it does the HTTP one.
 *
 * Shutdown follows the HTTP server's: `drain` refuses new calls (UNAVAILABLE: the pool refuses
 * new work, and grpc-js refuses new streams), lets calls in flight finish and resolves when they
 * have; past the grace period the pool cancels their work (UNAVAILABLE), and `forceShutdown`
 * ends what is left.
 */
export class GrpcServer {
  readonly #server: Server;
  readonly #health: HealthService;
  #drained: Promise<void> | null = null;
  readonly #window: number;

  constructor(ctx: GrpcContext) {
    this.#server = new Server({
      // The HTTP body limit holds for a message too: grpc-js refuses a larger one (RESOURCE_EXHAUSTED) before decoding it.
      'grpc.max_receive_message_length': ctx.config.maxBodyBytes,
    });
    this.#window = Math.min(ctx.config.maxBodyBytes, MAX_RECEIVE_WINDOW);
    widenStreamWindow(this.#server, this.#window);
    this.#health = new HealthService(ctx);
    this.#server.addService(inferenceServiceDefinition, inferenceService(ctx));
    this.#server.addService(healthServiceDefinition, this.#health.implementation);
  }

  /** Listens on host:port; resolves with the port (the one chosen, for port 0). */
  listen(port: number, host: string): Promise<number> {
    const address = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
    return new Promise((resolve, reject) =>
      this.#server.bindAsync(address, ServerCredentials.createInsecure(), (err, bound) => {
        if (err) return reject(err);
        widenSessionWindows(this.#server, this.#window);
        resolve(bound);
      }),
    );
  }

  /** Starts the drain (once): health says NOT_SERVING, Watch calls end, new calls are refused. */
  drain(): Promise<void> {
    this.#drained ??= new Promise((resolve) => {
      this.#health.stop();
      this.#server.tryShutdown(() => resolve());
    });
    return this.#drained;
  }

  /** Ends every call and connection at once: past the grace period. */
  forceShutdown(): void {
    this.#server.forceShutdown();
  }
}
