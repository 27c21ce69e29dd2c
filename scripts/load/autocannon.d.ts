/** The part of autocannon's API the load script uses (the package ships no types). */
declare module 'autocannon' {
  interface Options {
    url: string;
    connections: number;
    duration: number;
    method?: string;
    headers?: Record<string, string>;
    body?: string | Buffer;
    timeout?: number;
    /** Requests sent in turn on each connection, each overriding the defaults above. */
    requests?: { path?: string; method?: string; body?: string | Buffer; headers?: Record<string, string> }[];
    /** Called with each client; its 'headers' event carries every answer's status and raw headers. */
    setupClient?: (client: {
      on(event: 'headers', listener: (h: { statusCode: number; headers: string[] }) => void): void;
    }) => void;
  }
  interface Histogram {
    p50: number;
    p99: number;
    max: number;
    mean: number;
  }
  interface Result {
    requests: { total: number };
    latency: Histogram;
    statusCodeStats: Record<string, { count: number }>;
    errors: number;
    timeouts: number;
    duration: number;
  }
  function autocannon(opts: Options): Promise<Result>;

  export type { Result };
  export default autocannon;
}
