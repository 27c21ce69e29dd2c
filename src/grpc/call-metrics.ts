import {
  ResponderBuilder,
  ServerInterceptingCall,
  type ServerInterceptor,
  ServerListenerBuilder,
  status as Status,
} from '@grpc/grpc-js';
import type { Metrics } from '../plugins/metrics.js';

/** A status code's name, as Prometheus labels of gRPC carry it ("OK", "INVALID_ARGUMENT"). */
const codeName = (code: number): string => Status[code] ?? String(code);

/**
 * Counts and times every call of the gRPC server in `/metrics`, as REST's requests are: once,
 * when its status is sent, or as CANCELLED when its client went away first. The labels come from
 * the service definitions' own paths, never from the client, so their number is bounded.
 */
export const callMetrics =
  (metrics: Metrics): ServerInterceptor =>
  (method, call) => {
    const started = performance.now();
    const [, service = '', name = ''] = method.path.split('/');
    let counted = false;
    const count = (code: number) => {
      if (counted) return;
      counted = true;
      const labels = { grpc_service: service, grpc_method: name, grpc_code: codeName(code) };
      metrics.grpcHandled.inc(labels);
      metrics.grpcLatency.observe(labels, (performance.now() - started) / 1000);
    };
    const listener = new ServerListenerBuilder().withOnCancel(() => count(Status.CANCELLED)).build();
    return new ServerInterceptingCall(
      call,
      new ResponderBuilder()
        .withStart((next) => next(listener))
        .withSendStatus((status, next) => {
          count(status.code);
          next(status);
        })
        .build(),
    );
  };
