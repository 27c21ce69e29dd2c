/**
 * A gRPC client of the service as a protocol client builds one: the stubs loaded from the
 * committed .proto files (the protocol's definition), with @grpc/grpc-js, against the app's gRPC
 * server on an ephemeral port of the loopback.
 */
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import {
  type CallOptions,
  type Client,
  type ClientOptions,
  credentials,
  type GrpcObject,
  loadPackageDefinition,
  Metadata,
  type ServiceClientConstructor,
  type ServiceError,
} from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import type { FastifyInstance } from 'fastify';
import type { BuildOptions } from '../../../src/app.js';
import type { Config } from '../../../src/config.js';
import { build } from '../../helpers/build.js';
import { projectRoot } from '../../helpers/paths.js';

export const PROTO_DIR = join(projectRoot, 'proto');

const definitions = loadSync(['grpc_service.proto', 'health.proto'], {
  keepCase: true,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
  includeDirs: [PROTO_DIR],
});
const packages = loadPackageDefinition(definitions);
const ctor = (path: string) => {
  let node: unknown = packages;
  for (const p of path.split('.')) node = (node as GrpcObject)[p];
  return node as ServiceClientConstructor;
};
export const InferenceClient = ctor('inference.GRPCInferenceService');
export const HealthClient = ctor('grpc.health.v1.Health');

/** Clients read answers of any size here: the service's own limits are what is tested. */
export const CLIENT_OPTIONS: ClientOptions = {
  'grpc.max_receive_message_length': -1,
  'grpc.max_send_message_length': -1,
};

export interface Served {
  readonly app: FastifyInstance;
  readonly port: number;
  readonly address: string;
  readonly inference: Client;
  readonly health: Client;
}

/** The app with its gRPC server on 127.0.0.1:<ephemeral>, and clients of both services; all closed after the test. */
export async function serve(
  t: Pick<TestContext, 'after'> | null,
  overrides: Partial<Config> = {},
  options: BuildOptions = {},
): Promise<Served & { close(): Promise<void> }> {
  const app = await build(null, overrides, options);
  const port = await app.grpc.listen(0, '127.0.0.1');
  const address = `127.0.0.1:${port}`;
  const inference = new InferenceClient(address, credentials.createInsecure(), CLIENT_OPTIONS);
  const health = new HealthClient(address, credentials.createInsecure(), CLIENT_OPTIONS);
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    inference.close();
    health.close();
    await app.close();
  };
  t?.after(close);
  return { app, port, address, inference, health, close };
}

type UnaryMethod = (
  request: unknown,
  metadata: Metadata,
  options: CallOptions,
  callback: (err: ServiceError | null, res: never) => void,
) => void;

/** A unary call as a promise; rejects with the ServiceError (code, details, metadata). */
export function unary<Res = any>(
  client: Client,
  method: string,
  request: unknown,
  metadata: Record<string, string> = {},
  options: CallOptions = {},
): Promise<Res> {
  const md = new Metadata();
  for (const [k, v] of Object.entries(metadata)) md.set(k, v);
  return new Promise((resolve, reject) =>
    (client as unknown as Record<string, UnaryMethod>)[method](
      request,
      md,
      options,
      (err: ServiceError | null, res: Res) => (err ? reject(err) : resolve(res)),
    ),
  );
}

/** The ServiceError a call ends with (fails the test when it succeeds). */
export async function refused(promise: Promise<unknown>): Promise<ServiceError> {
  try {
    await promise;
  } catch (err) {
    return err as ServiceError;
  }
  throw new Error('the call succeeded; a refusal was expected');
}

/** A tensor's little-endian bytes, as raw_input_contents carries them. */
export const rawOf = (a: Float32Array | Float64Array): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

/** raw_output_contents bytes as a typed array (copied: the buffer may not be aligned). */
export const floats = (bytes: Buffer, datatype: string): Float32Array | Float64Array => {
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  return datatype === 'FP64' ? new Float64Array(copy.buffer) : new Float32Array(copy.buffer);
};
