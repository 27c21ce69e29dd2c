import type { Http2Server, Http2Session, Settings } from 'node:http2';
import { Server, ServerCredentials } from '@grpc/grpc-js';
import { closeSilentConnections } from '../silent-connections.js';
import { callMetrics } from './call-metrics.js';
import { HealthService } from './health.js';
import { callKeyRefusal, type GrpcContext, inferenceService } from './inference-service.js';
import { loadMessageBytes } from './load-message.js';
import { messageIntake } from './message-intake.js';
import { HEALTH_SERVICE, INFERENCE_SERVICE, type MessageLimit, serviceDefinition } from './proto.js';
import { MAX_RECEIVE_WINDOW } from './receive-window.js';

/** Calls open at once on one connection (HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS). */
export const MAX_CONCURRENT_STREAMS = 128;

type Internals = {
  commonServerOptions?: { settings?: Settings };
  http2Servers?: Map<Http2Server, unknown>;
};

/** Each stream's window: the SETTINGS every new connection is sent. */
function widenStreamWindow(server: Server, bytes: number): void {
  const options = (server as unknown as Internals).commonServerOptions;
  if (options) options.settings = { ...options.settings, initialWindowSize: bytes };
}

/**
 * Each connection's window as it opens, MAX_CONNECTIONS, and HEADERS_TIMEOUT_MS for a socket
 * that sends nothing, as on the HTTP port: on every listener bound so far (grpc-js offers none of
 * them as an option).
 */
function configureListeners(
  server: Server,
  window: number,
  limits: { maxConnections: number; headersTimeoutMs: number },
): void {
  for (const http2Server of (server as unknown as Internals).http2Servers?.keys() ?? []) {
    if ((http2Server as Http2Server & { [WIDENED]?: true })[WIDENED]) continue;
    (http2Server as Http2Server & { [WIDENED]?: true })[WIDENED] = true;
    http2Server.maxConnections = limits.maxConnections;
    closeSilentConnections(http2Server, limits.headersTimeoutMs);
    http2Server.on('session', (session: Http2Session) => {
      try {
        session.setLocalWindowSize(window);
      } catch {
        // A session already closing: nothing to widen.
      }
    });
  }
}

const WIDENED = Symbol('widened');

/** The method whose messages may pass MAX_BODY_BYTES: a load carries a layer's weights file. */
const LOAD_METHOD = `/${INFERENCE_SERVICE}/RepositoryModelLoad`;
/** The method whose handler carries its message's admission on (src/grpc/message-intake.ts). */
const INFER_METHOD = `/${INFERENCE_SERVICE}/ModelInfer`;

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
  readonly #ctx: GrpcContext;
  /** Made when first bound: an app that serves no gRPC (GRPC_PORT=0, most tests) loads no .proto. */
  #bound: { server: Server; health: HealthService } | null = null;
  #drained: Promise<void> | null = null;

  constructor(ctx: GrpcContext) {
    this.#ctx = ctx;
  }

  #make(): { server: Server; health: HealthService } {
    const { config, app } = this.#ctx;
    // The HTTP body limit holds for a message too, and a load's own limit for a load's (REST's
    // load route has its own as well): a larger one is refused (RESOURCE_EXHAUSTED) undecoded.
    const loadBytes = loadMessageBytes(config.maxStoredBytes);
    const limit: MessageLimit = (method) => (method === LOAD_METHOD ? loadBytes : config.maxBodyBytes);
    const server = new Server({
      'grpc.max_receive_message_length': Math.max(config.maxBodyBytes, loadBytes),
      // Calls one connection may have open at once, each holding up to a message: bounded, as
      // HTTP/1.1 bounds a connection to one request.
      'grpc.max_concurrent_streams': MAX_CONCURRENT_STREAMS,
      // A connection with no call open is kept as long as an idle HTTP keep-alive one, then sent
      // GOAWAY (clients reconnect for their next call); grpc-js's default is forever.
      'grpc.max_connection_idle_ms': app.server.keepAliveTimeout,
      // The metrics first, around everything: the statuses the intake sends (refusals from a
      // call's headers or of its message) are counted as the handlers' are.
      interceptors: [
        callMetrics(this.#ctx.metrics),
        messageIntake({
          config,
          pool: app.pool,
          budget: app.memoryBudget,
          uploads: app.uploads,
          deliveries: app.deliveries,
          limit,
          adoptingMethod: INFER_METHOD,
          keyRefusal: callKeyRefusal(config),
        }),
      ],
    });
    widenStreamWindow(server, Math.min(config.maxBodyBytes, MAX_RECEIVE_WINDOW));
    const health = new HealthService(this.#ctx);
    server.addService(serviceDefinition(INFERENCE_SERVICE, limit), inferenceService(this.#ctx));
    server.addService(serviceDefinition(HEALTH_SERVICE), health.implementation);
    return { server, health };
  }

  /** Listens on host:port; resolves with the port (the one chosen, for port 0). */
  listen(port: number, host: string): Promise<number> {
    if (this.#drained) return Promise.reject(new Error('the gRPC server has been shut down'));
    this.#bound ??= this.#make();
    const { server } = this.#bound;
    const address = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
    return new Promise((resolve, reject) =>
      server.bindAsync(address, ServerCredentials.createInsecure(), (err, bound) => {
        if (err) return reject(err);
        const { config } = this.#ctx;
        configureListeners(server, Math.min(config.maxBodyBytes, MAX_RECEIVE_WINDOW), config);
        resolve(bound);
      }),
    );
  }

  /** Starts the drain (once): health says NOT_SERVING, Watch calls end, new calls are refused. */
  drain(): Promise<void> {
    this.#drained ??= new Promise((resolve) => {
      if (!this.#bound) return resolve();
      this.#bound.health.stop();
      this.#bound.server.tryShutdown(() => resolve());
    });
    return this.#drained;
  }

  /** Ends every call and connection at once: past the grace period. */
  forceShutdown(): void {
    this.#bound?.server.forceShutdown();
  }
}
