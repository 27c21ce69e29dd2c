import { Server, ServerCredentials } from '@grpc/grpc-js';
import { HealthService } from './health.js';
import { type GrpcContext, inferenceService } from './inference-service.js';
import { healthServiceDefinition, inferenceServiceDefinition } from './proto.js';

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

  constructor(ctx: GrpcContext) {
    this.#server = new Server({
      // The HTTP body limit holds for a message too: grpc-js refuses a larger one (RESOURCE_EXHAUSTED) before decoding it.
      'grpc.max_receive_message_length': ctx.config.maxBodyBytes,
    });
    this.#health = new HealthService(ctx);
    this.#server.addService(inferenceServiceDefinition, inferenceService(ctx));
    this.#server.addService(healthServiceDefinition, this.#health.implementation);
  }

  /** Listens on host:port; resolves with the port (the one chosen, for port 0). */
  listen(port: number, host: string): Promise<number> {
    const address = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
    return new Promise((resolve, reject) =>
      this.#server.bindAsync(address, ServerCredentials.createInsecure(), (err, bound) =>
        err ? reject(err) : resolve(bound),
      ),
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
