import { makeGenericClientConstructor } from '@grpc/grpc-js';

/**
 * A ModelInfer client that sends bytes as they are and keeps the answer's bytes: the server alone
 * encodes and decodes protobuf. What the fuzzer sends malformed messages with, and what the bench
 * times the service with (a message encoded once, an answer not parsed, as autocannon does for
 * HTTP).
 */
export const RawInferenceClient = makeGenericClientConstructor(
  {
    ModelInfer: {
      path: '/inference.GRPCInferenceService/ModelInfer',
      requestStream: false,
      responseStream: false,
      requestSerialize: (b: Buffer) => b,
      requestDeserialize: (b: Buffer) => b,
      responseSerialize: (b: Buffer) => b,
      responseDeserialize: (b: Buffer) => b,
    },
  },
  'RawInference',
);
