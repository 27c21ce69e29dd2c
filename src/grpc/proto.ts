import { join } from 'node:path';
import { type GrpcObject, loadPackageDefinition, type ServiceDefinition } from '@grpc/grpc-js';
import { loadSync, type Options } from '@grpc/proto-loader';
import protobuf from 'protobufjs';
import { projectRoot } from '../package-info.js';
import { decodedCost } from './decoded-cost.js';

/**
 * The gRPC services' definitions, loaded from proto/ when the gRPC server is first bound
 * (@grpc/proto-loader: no generated code to keep in step with the .proto files; an app that
 * serves no gRPC never reads them), and the messages' shapes as the
 * loader's options below give them to handlers: field names as in the .proto (snake_case),
 * int64 as numbers, enums as their names, `oneof` fields naming the field that is set, repeated
 * fields always present, bytes as Buffers (views of the received message, not copies).
 */
export const PROTO_DIR = join(projectRoot, 'proto');

export const LOADER_OPTIONS: Options = {
  keepCase: true,
  longs: Number,
  enums: String,
  defaults: false,
  arrays: true,
  oneofs: true,
  includeDirs: [PROTO_DIR],
};

const PROTO_FILES = ['grpc_service.proto', 'health.proto'];

let loaded: GrpcObject | null = null;

/** Every package of proto/, loaded once: for the server, and for clients (the bench). */
export function protoPackages(): GrpcObject {
  loaded ??= loadPackageDefinition(loadSync(PROTO_FILES, LOADER_OPTIONS));
  return loaded;
}

let reflected: protobuf.Root | null = null;

/**
 * The same files as protobufjs' reflection, for what the loader's definitions do not give: each
 * message's fields by number, to tell what a message will hold before it is decoded
 * (src/grpc/decoded-cost.ts). protobufjs is the loader's own decoder, a dependency of ours so
 * that its types are ours to import.
 */
export function protoRoot(): protobuf.Root {
  if (reflected) return reflected;
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => join(PROTO_DIR, target);
  root.loadSync(PROTO_FILES, { keepCase: true });
  root.resolveAll();
  reflected = root;
  return root;
}

/**
 * What a request may hold once decoded: twice its bytes (a packed float is a double in
 * protobufjs' arrays), and a MiB besides for the objects of a small one. The memory budget
 * charges a message three times its bytes (src/memory-model.ts), the message itself included.
 */
export const decodedLimit = (bytes: number): number => 2 * bytes + 2 ** 20;

/** Set on a request that was not a valid message of its type: why, in protobufjs' words. */
export const MALFORMED = Symbol('malformed');
export type Malformed = { readonly [MALFORMED]: string };

export const malformedReason = (request: unknown): string | undefined =>
  typeof request === 'object' && request !== null ? (request as Partial<Malformed>)[MALFORMED] : undefined;

/** Set on a request over its method's size limit, which was not decoded: the refusal's message. */
export const OVERSIZE = Symbol('oversize');
export type Oversize = { readonly [OVERSIZE]: string };

export const oversizeReason = (request: unknown): string | undefined =>
  typeof request === 'object' && request !== null ? (request as Partial<Oversize>)[OVERSIZE] : undefined;

/** The bytes a message of `method` (its path, `/package.Service/Method`) may have. */
export type MessageLimit = (method: string) => number;

/**
 * A service whose requests that fail to decode, or would hold more than decodedLimit once
 * decoded, reach the handler marked MALFORMED, undecoded, so they are refused as the client's
 * error (INVALID_ARGUMENT) and not as grpc-js's INTERNAL (or the heap's end); and, with
 * `maxBytes`, whose requests over their method's limit reach it marked OVERSIZE, undecoded (the
 * server's own limit is the largest method's: src/grpc/server.ts).
 */
export const serviceDefinition = (path: string, maxBytes?: MessageLimit): ServiceDefinition => {
  let node: unknown = protoPackages();
  for (const part of path.split('.')) node = (node as GrpcObject)[part];
  const definition = (node as { service: ServiceDefinition }).service;
  const reflection = protoRoot().lookupService(path);
  return Object.fromEntries(
    Object.entries(definition).map(([name, method]) => {
      const requestType = reflection.methods[name].resolvedRequestType;
      return [
        name,
        {
          ...method,
          // ModelInfer's handler answers with the message already encoded (src/grpc/wire.ts).
          responseSerialize: (value: unknown): Buffer =>
            Buffer.isBuffer(value) ? value : method.responseSerialize(value),
          requestDeserialize: (bytes: Buffer): unknown => {
            const max = maxBytes?.(method.path);
            if (max !== undefined && bytes.length > max)
              return {
                [OVERSIZE]: `the message has ${bytes.length} bytes, over the ${max} ${name} takes`,
              } satisfies Oversize;
            const limit = decodedLimit(bytes.length);
            if (requestType && decodedCost(requestType, bytes, limit) > limit)
              return {
                [MALFORMED]: `its ${bytes.length} bytes would take more than ${limit} once decoded (twice their size and a MiB): too many empty or tiny values`,
              } satisfies Malformed;
            try {
              return method.requestDeserialize(bytes);
            } catch (err) {
              return { [MALFORMED]: (err as Error).message.slice(0, 200) } satisfies Malformed;
            }
          },
        },
      ];
    }),
  ) as ServiceDefinition;
};

export const INFERENCE_SERVICE = 'inference.GRPCInferenceService';
export const HEALTH_SERVICE = 'grpc.health.v1.Health';

/** One value of a parameter map: the `oneof` names the field that is set. */
export interface InferParameter {
  readonly parameter_choice?: 'bool_param' | 'int64_param' | 'string_param' | 'double_param' | 'uint64_param';
  readonly bool_param?: boolean;
  readonly int64_param?: number;
  readonly string_param?: string;
  readonly double_param?: number;
  readonly uint64_param?: number;
}

export type ParameterMap = Readonly<Record<string, InferParameter>>;

export interface InferTensorContents {
  readonly bool_contents?: readonly boolean[];
  readonly int_contents?: readonly number[];
  readonly int64_contents?: readonly number[];
  readonly uint_contents?: readonly number[];
  readonly uint64_contents?: readonly number[];
  readonly fp32_contents?: readonly number[];
  readonly fp64_contents?: readonly number[];
  readonly bytes_contents?: readonly Buffer[];
}

export interface InferInputTensor {
  readonly name?: string;
  readonly datatype?: string;
  readonly shape: readonly number[];
  readonly parameters?: ParameterMap;
  readonly contents?: InferTensorContents;
}

export interface InferRequestedOutputTensor {
  readonly name?: string;
  readonly parameters?: ParameterMap;
}

export interface ModelInferRequest {
  readonly model_name?: string;
  readonly model_version?: string;
  readonly id?: string;
  readonly parameters?: ParameterMap;
  readonly inputs: readonly InferInputTensor[];
  readonly outputs: readonly InferRequestedOutputTensor[];
  readonly raw_input_contents: readonly Buffer[];
}

/** A load's or unload's parameter: the `oneof` names the field that is set. */
export interface RepositoryParameter {
  readonly parameter_choice?: 'bool_param' | 'int64_param' | 'string_param' | 'bytes_param';
  readonly bool_param?: boolean;
  readonly int64_param?: number;
  readonly string_param?: string;
  readonly bytes_param?: Buffer;
}

export type RepositoryParameterMap = Readonly<Record<string, RepositoryParameter>>;

/** RepositoryModelLoad's and RepositoryModelUnload's request. */
export interface RepositoryModelRequest {
  readonly repository_name?: string;
  readonly model_name?: string;
  readonly parameters?: RepositoryParameterMap;
}

export interface RepositoryIndexRequest {
  readonly repository_name?: string;
  readonly ready?: boolean;
}

/** ModelReady's, ModelMetadata's, ModelConfig's and ModelStatistics' request. */
export interface ModelRequest {
  readonly name?: string;
  readonly version?: string;
}

export interface TensorMetadata {
  name: string;
  datatype: string;
  shape: number[];
}

export interface ModelMetadataResponse {
  name: string;
  versions: string[];
  platform: string;
  inputs: TensorMetadata[];
  outputs: TensorMetadata[];
}

export type ServingStatus = 'UNKNOWN' | 'SERVING' | 'NOT_SERVING' | 'SERVICE_UNKNOWN';

export interface HealthCheckRequest {
  readonly service?: string;
}

export interface HealthCheckResponse {
  status: ServingStatus;
}
