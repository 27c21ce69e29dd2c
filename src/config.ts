import { z } from 'zod';
import { GEMM_FAMILIES, type GemmFamily } from '../workers/gemm/family.js';
import { availableCores } from './cpu-limit.js';

const MiB = 1024 * 1024;

/** An environment variable holding a whole number in [min, max]. */
const wholeNumber = (min: number, max: number) =>
  z.string().trim().regex(/^\d+$/, 'must be a whole number').transform(Number).pipe(z.number().int().min(min).max(max));

/** Comma-separated keys; none when unset. */
const keyList = z
  .string()
  .optional()
  .transform((v) =>
    (v ?? '')
      .split(',')
      .map((k) => k.trim())
      .filter((k) => k.length > 0),
  );

/**
 * Every setting of the service, read only from the environment (docs/api.md, "Process"). Parsed once at
 * start-up: a bad value stops the process with a message naming the variable.
 */
export const EnvSchema = z.object({
  PORT: wholeNumber(0, 65535).default(8080),
  HOST: z.string().min(1).default('0.0.0.0'),
  GRPC_PORT: wholeNumber(0, 65535).default(8081),
  HTTP_PROCESSES: wholeNumber(1, 256).optional(),
  WORKERS: wholeNumber(1, 256).optional(),
  MAX_BODY_BYTES: wholeNumber(1024, 2 ** 31 - 1).default(64 * MiB),
  MAX_ELEMENTS: wholeNumber(1, 2 ** 31 - 1).default(16_777_216),
  MAX_MACS: wholeNumber(1, Number.MAX_SAFE_INTEGER).default(2 ** 36),
  MAX_QUEUE: wholeNumber(0, 1_000_000).default(64),
  INLINE_MAX_MACS: wholeNumber(0, 2 ** 31 - 1).default(2 ** 18),
  REQUEST_TIMEOUT_MS: wholeNumber(1, 3_600_000).default(60_000),
  SHUTDOWN_GRACE_MS: wholeNumber(0, 3_600_000).default(30_000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  RATE_LIMIT_MAX: wholeNumber(0, 1_000_000_000).default(0),
  RATE_LIMIT_WINDOW_MS: wholeNumber(1, 86_400_000).default(60_000),
  API_KEYS: keyList,
  METRICS_API_KEY: keyList,
  ADMIN_API_KEYS: keyList,
  MODEL_REPOSITORY: z.string().min(1).optional(),
  MAX_STORED_BYTES: wholeNumber(0, Number.MAX_SAFE_INTEGER).default(256 * MiB),
  MEMORY_BUDGET_BYTES: wholeNumber(16 * MiB, Number.MAX_SAFE_INTEGER).optional(),
  MIN_BODY_BYTES_PER_SECOND: wholeNumber(0, 2 ** 31 - 1).default(16 * 1024),
  HEADERS_TIMEOUT_MS: wholeNumber(1000, 600_000).default(10_000),
  MAX_CONNECTIONS: wholeNumber(1, 1_000_000).default(4096),
  // Forces one GEMM family in every thread (workers/gemm/registry.ts reads it there).
  GEMM_VARIANT: z.enum(GEMM_FAMILIES).optional(),
});

export interface Config {
  readonly port: number;
  readonly host: string;
  /** The Open Inference Protocol's gRPC port (src/grpc/), on HOST; 0: no gRPC. */
  readonly grpcPort: number;
  /** The cores the service may keep busy (src/cpu-limit.ts), read once: the default of the two below, and the host's kernel slots. */
  readonly cores: number;
  /** Server processes sharing the port (src/cluster/primary.ts); 1: this process serves alone. */
  readonly httpProcesses: number;
  /** Kernel threads of each server process's pool. */
  readonly workers: number;
  readonly maxBodyBytes: number;
  readonly maxElements: number;
  readonly maxMacs: number;
  /** Tasks that may wait for a worker; past it, requests get 503. */
  readonly maxQueue: number;
  /** Conv tasks of at most this many multiply-adds and tensor elements run on the main thread, not a worker; 0: none do. */
  readonly inlineMaxMacs: number;
  readonly requestTimeoutMs: number;
  /** How long SIGTERM waits for in-flight requests before the process exits anyway. */
  readonly shutdownGraceMs: number;
  readonly logLevel: string;
  /** Bearer tokens accepted on /v1; empty means no authentication. */
  readonly apiKeys: readonly string[];
  /** Op requests one client (API key, else IP address) may make per window; 0 turns the limit off. */
  readonly rateLimitMax: number;
  readonly rateLimitWindowMs: number;
  /** Bearer tokens accepted on /metrics; empty means it is open. */
  readonly metricsApiKeys: readonly string[];
  /** Bearer tokens of the administrative routes (loading and unloading layers); API_KEYS are never enough there. */
  readonly adminApiKeys: readonly string[];
  /** A directory of stored layers read at start (`<name>/config.json`, `<name>/1/model.safetensors`), as Triton's --model-repository. */
  readonly modelRepository: string | undefined;
  /** Bytes the stored layers' tensors may take together, in each server process. */
  readonly maxStoredBytes: number;
  /** Bytes requests may hold at once; undefined: derived from the memory the process may use (src/memory-budget.ts). */
  readonly memoryBudgetBytes: number | undefined;
  /** A body arriving slower than this (over 5 s) is cut off with 408; 0: no minimum. */
  readonly minBodyBytesPerSecond: number;
  /** How long a client may take to send a request's headers. */
  readonly headersTimeoutMs: number;
  /** Open connections at most; past it new ones are closed at once. */
  readonly maxConnections: number;
  /**
   * The GEMM family GEMM_VARIANT forces; unset, the best offered (native, else wasm, else
   * typescript). Checked here; every thread reads it from the process environment itself.
   */
  readonly gemmVariant?: GemmFamily;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Reads the configuration from an environment; throws ConfigError naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const known = Object.fromEntries(
    Object.keys(EnvSchema.shape)
      .filter((k) => env[k] !== undefined && env[k] !== '')
      .map((k) => [k, env[k]]),
  );
  const parsed = EnvSchema.safeParse(known);
  if (!parsed.success) {
    const lines = parsed.error.issues.map(
      (i) => `${i.path.join('.')}=${JSON.stringify(known[String(i.path[0])])}: ${i.message}`,
    );
    throw new ConfigError(`invalid configuration:\n  ${lines.join('\n  ')}`);
  }
  const e = parsed.data;
  const cores = availableCores();
  return {
    port: e.PORT,
    host: e.HOST,
    grpcPort: e.GRPC_PORT,
    cores,
    httpProcesses: e.HTTP_PROCESSES ?? cores,
    workers: e.WORKERS ?? cores,
    maxBodyBytes: e.MAX_BODY_BYTES,
    maxElements: e.MAX_ELEMENTS,
    maxMacs: e.MAX_MACS,
    maxQueue: e.MAX_QUEUE,
    inlineMaxMacs: e.INLINE_MAX_MACS,
    requestTimeoutMs: e.REQUEST_TIMEOUT_MS,
    shutdownGraceMs: e.SHUTDOWN_GRACE_MS,
    logLevel: e.LOG_LEVEL,
    apiKeys: e.API_KEYS,
    rateLimitMax: e.RATE_LIMIT_MAX,
    rateLimitWindowMs: e.RATE_LIMIT_WINDOW_MS,
    metricsApiKeys: e.METRICS_API_KEY,
    adminApiKeys: e.ADMIN_API_KEYS,
    modelRepository: e.MODEL_REPOSITORY,
    maxStoredBytes: e.MAX_STORED_BYTES,
    memoryBudgetBytes: e.MEMORY_BUDGET_BYTES,
    minBodyBytesPerSecond: e.MIN_BODY_BYTES_PER_SECOND,
    headersTimeoutMs: e.HEADERS_TIMEOUT_MS,
    maxConnections: e.MAX_CONNECTIONS,
    gemmVariant: e.GEMM_VARIANT,
  };
}

/** The configuration of an empty environment: what tests start from. */
export const defaultConfig = (): Config => loadConfig({});
