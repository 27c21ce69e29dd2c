/**
 * The fuzzer over gRPC: ModelInfer calls as hostile or careless clients make them — valid
 * requests, well-formed ones with wrong shapes, datatypes, parameters, contents and models,
 * valid messages with bytes flipped, cut or added, random bytes, and hostile metadata (no key, a
 * wrong or huge one, odd and binary entries). Every call must end in OK with whole tensors, or in
 * one of the refusal codes with the protocol's details — never INTERNAL, UNKNOWN, a hang or a
 * crash. A call without the key must be UNAUTHENTICATED, whatever else it is.
 */
import { join } from 'node:path';
import { type Client, credentials, Metadata, type ServiceError, status } from '@grpc/grpc-js';
import { loadSync, type MethodDefinition } from '@grpc/proto-loader';
import fc from 'fast-check';
import { RawInferenceClient } from '../../src/grpc/raw-client.js';
import { projectRoot } from '../../src/package-info.js';

const definitions = loadSync('grpc_service.proto', {
  includeDirs: [join(projectRoot, 'proto')],
  keepCase: true,
  longs: Number,
  defaults: true,
  oneofs: true,
});
const modelInfer = (definitions['inference.GRPCInferenceService'] as Record<string, MethodDefinition<object, object>>)
  .ModelInfer;

export interface GrpcFuzzCall {
  readonly bytes: Buffer;
  readonly metadata: readonly (readonly [string, string | Buffer])[];
  readonly withoutKey: boolean;
  readonly kind: string;
}

const MODELS = ['conv_transpose2d', 'conv2d', 'im2col', 'conv2d_grad_input', 'col2im', 'nope', ''];
const DATATYPES = ['FP32', 'FP64', 'FP16', 'INT8', 'BYTES', ''];

const f32 = (n: number, seed: number) =>
  Buffer.from(Float32Array.from({ length: n }, (_, i) => (((i + seed) * 2654435761) % 2001) / 1000 - 1).buffer);

const param = fc.oneof(
  fc.integer({ min: -3, max: 5 }).map((v) => ({ int64_param: v })),
  fc.boolean().map((v) => ({ bool_param: v })),
  fc.double({ noNaN: false }).map((v) => ({ double_param: v })),
  fc.string({ maxLength: 8 }).map((v) => ({ string_param: v })),
  fc.constant({}),
);

/** A conv_transpose2d or conv2d forward of small random shapes, with raw contents of the right size. */
const validMessage = fc
  .record({
    model: fc.constantFrom('conv_transpose2d', 'conv2d'),
    n: fc.integer({ min: 1, max: 2 }),
    c: fc.integer({ min: 1, max: 3 }),
    o: fc.integer({ min: 1, max: 3 }),
    h: fc.integer({ min: 3, max: 6 }),
    k: fc.integer({ min: 1, max: 3 }),
    s: fc.integer({ min: 1, max: 2 }),
    typed: fc.boolean(),
  })
  .map(({ model, n, c, o, h, k, s, typed }) => {
    const weight = model === 'conv2d' ? [o, c, k, k] : [c, o, k, k];
    const input = [n, c, h, h];
    const count = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
    const values = [f32(count(input), 1), f32(count(weight), 2)];
    return {
      model_name: model,
      parameters: { stride_h: { int64_param: s }, stride_w: { int64_param: s } },
      inputs: [
        { name: 'input', datatype: 'FP32', shape: input },
        { name: 'weight', datatype: 'FP32', shape: weight },
      ].map((t, i) => (typed ? { ...t, contents: { fp32_contents: [...new Float32Array(values[i].buffer)] } } : t)),
      raw_input_contents: typed ? [] : values,
      ...(typed ? {} : {}),
    };
  });

/** A well-formed message that breaks the protocol's rules: any model, datatype, shape, parameter, contents. */
const hostileMessage = fc.record({
  model_name: fc.oneof(fc.constantFrom(...MODELS), fc.string({ maxLength: 300 })),
  model_version: fc.constantFrom('', '1', '2', 'latest'),
  id: fc.string({ maxLength: 40 }),
  parameters: fc.dictionary(
    fc.constantFrom('stride_h', 'stride_w', 'padding_h', 'groups', 'kernel_h', 'kernel_w', 'binary_data_output', 'x'),
    param,
    { maxKeys: 5 },
  ),
  inputs: fc.array(
    fc.record({
      name: fc.constantFrom('input', 'weight', 'bias', 'grad_output', 'columns', 'x', ''),
      datatype: fc.constantFrom(...DATATYPES),
      shape: fc.array(fc.integer({ min: -2, max: 2 ** 33 }), { maxLength: 6 }),
      parameters: fc.dictionary(fc.constantFrom('binary_data_size', 'shared_memory_region', 'y'), param, {
        maxKeys: 2,
      }),
      contents: fc.option(
        fc.record({
          fp32_contents: fc.array(fc.float(), { maxLength: 40 }),
          fp64_contents: fc.array(fc.double(), { maxLength: 8 }),
          int_contents: fc.array(fc.integer(), { maxLength: 4 }),
        }),
        { nil: undefined },
      ),
    }),
    { maxLength: 4 },
  ),
  outputs: fc.array(
    fc.record({
      name: fc.constantFrom('output', 'grad_input', 'columns', 'z'),
      parameters: fc.dictionary(fc.constantFrom('binary_data', 'classification'), param, { maxKeys: 2 }),
    }),
    { maxLength: 3 },
  ),
  raw_input_contents: fc.array(
    fc.integer({ min: 0, max: 200 }).map((n) => Buffer.alloc(n, 1)),
    { maxLength: 4 },
  ),
});

const encode = (m: object): Buffer => modelInfer.requestSerialize(m);

/** Valid bytes broken: flipped, cut, extended. */
const mutated = fc
  .tuple(
    validMessage,
    fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }),
    fc.nat(),
    fc.uint8Array({ maxLength: 16 }),
  )
  .map(([m, flips, cut, extra]) => {
    const bytes = Buffer.from(encode(m));
    for (const [at, value] of flips) bytes[at % bytes.length] = value;
    return Buffer.concat([bytes.subarray(0, bytes.length - (cut % Math.min(64, bytes.length))), extra]);
  });

const metadata = fc.array(
  fc.oneof(
    fc.tuple(
      fc.constantFrom('x-request-id', 'x-odd', 'grpc-timeout-ish', 'x-trace'),
      fc.string({ maxLength: 200 }).map((s) => s.replace(/[^\x20-\x7e]/g, '')),
    ),
    fc.tuple(
      fc.constant('x-blob-bin'),
      fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)),
    ),
  ),
  { maxLength: 4 },
);

const authorization = (key: string) =>
  fc.oneof(
    { weight: 8, arbitrary: fc.constant({ value: `Bearer ${key}`, withoutKey: false }) },
    fc.constantFrom(
      { value: '', withoutKey: true },
      { value: 'Bearer', withoutKey: true },
      { value: `Basic ${key}`, withoutKey: true },
      { value: `Bearer ${key}x`, withoutKey: true },
      { value: `Bearer ${'k'.repeat(4000)}`, withoutKey: true },
    ),
  );

/**
 * A valid message followed by many empty values of one repeated field (inputs, outputs,
 * raw_input_contents, parameters): tiny on the wire, an object each once decoded.
 */
const emptyValues = fc
  .record({ message: validMessage, field: fc.constantFrom(4, 5, 6, 7), count: fc.integer({ min: 1, max: 2_000_000 }) })
  .map(({ message, field, count }) =>
    Buffer.concat([encode(message), Buffer.alloc(2 * count).fill(Buffer.of((field << 3) | 2, 0))]),
  );

export const grpcFuzzCall = (key: string): fc.Arbitrary<GrpcFuzzCall> =>
  fc
    .tuple(
      fc.oneof(
        { weight: 3, arbitrary: validMessage.map((m) => ({ bytes: encode(m), kind: 'valid' })) },
        { weight: 4, arbitrary: hostileMessage.map((m) => ({ bytes: encode(m), kind: 'well-formed, hostile' })) },
        { weight: 2, arbitrary: mutated.map((bytes) => ({ bytes, kind: 'valid bytes broken' })) },
        { weight: 1, arbitrary: emptyValues.map((bytes) => ({ bytes, kind: 'many empty values' })) },
        {
          weight: 1,
          arbitrary: fc.uint8Array({ maxLength: 256 }).map((a) => ({ bytes: Buffer.from(a), kind: 'random bytes' })),
        },
      ),
      metadata,
      authorization(key),
    )
    .map(([{ bytes, kind }, entries, auth]) => ({
      bytes,
      kind,
      withoutKey: auth.withoutKey,
      metadata: auth.value === '' ? entries : [...entries, ['authorization', auth.value] as const],
    }));

/** Codes a call may end with: an answer, or one of the protocol's refusals of a bad request. */
const REFUSALS = new Set([
  status.INVALID_ARGUMENT,
  status.NOT_FOUND,
  status.RESOURCE_EXHAUSTED,
  status.UNAUTHENTICATED,
]);

interface Decoded {
  outputs: {
    datatype: string;
    shape: number[];
    contents: { fp32_contents: number[]; fp64_contents: number[] } | null;
  }[];
  raw_output_contents: Buffer[];
}

/** What is wrong with how a call ended, or null. */
export function judgeCall(call: GrpcFuzzCall, err: ServiceError | null, answer: Buffer | undefined): string | null {
  if (call.withoutKey)
    return err?.code === status.UNAUTHENTICATED ? null : `ended ${err ? status[err.code] : 'OK'} without the API key`;
  if (err) {
    if (!REFUSALS.has(err.code)) return `ended ${status[err.code]}: ${err.details}`;
    if (!err.details || err.details.length > 1100)
      return `${status[err.code]} with details of ${err.details?.length ?? 0} characters`;
    if (/\n\s+at /.test(err.details)) return 'a stack trace in the details';
    return null;
  }
  const res = modelInfer.responseDeserialize(answer!) as unknown as Decoded;
  for (const [i, o] of res.outputs.entries()) {
    const count = o.shape.reduce((a, b) => a * b, 1);
    const bytes = o.datatype === 'FP64' ? 8 : 4;
    const got =
      res.raw_output_contents.length > 0
        ? res.raw_output_contents[i]?.length
        : (o.contents?.fp32_contents.length ?? 0) * 4 + (o.contents?.fp64_contents.length ?? 0) * 8;
    if (got !== count * bytes) return `output ${i} of shape [${o.shape}] holds ${got} bytes, not ${count * bytes}`;
  }
  return res.outputs.length > 0 ? null : 'an answer without outputs';
}

export interface GrpcFuzzReport {
  readonly runs: number;
  readonly seed: number;
  readonly codes: Record<string, number>;
  readonly kinds: Record<string, number>;
  readonly failure?: string;
}

/** Runs `runs` generated calls against a gRPC server at `address` (loopback only). */
export async function fuzzGrpc(opts: {
  address: string;
  runs: number;
  seed?: number;
  apiKey: string;
  timeoutMs?: number;
}): Promise<GrpcFuzzReport> {
  const host = opts.address.slice(0, opts.address.lastIndexOf(':'));
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(host))
    throw new Error(`the fuzzer only talks to loopback, not ${host}`);
  const seed = opts.seed ?? Date.now() >>> 0;
  const client: Client = new RawInferenceClient(opts.address, credentials.createInsecure(), {
    'grpc.max_receive_message_length': -1,
  });
  const codes: Record<string, number> = {};
  const kinds: Record<string, number> = {};
  try {
    const property = fc.asyncProperty(grpcFuzzCall(opts.apiKey), async (call) => {
      const md = new Metadata();
      for (const [k, v] of call.metadata) md.add(k, v);
      const { err, answer } = await new Promise<{ err: ServiceError | null; answer?: Buffer }>((resolve) =>
        (client as unknown as Record<string, (...a: unknown[]) => void>).ModelInfer(
          call.bytes,
          md,
          { deadline: Date.now() + (opts.timeoutMs ?? 10_000) },
          (e: ServiceError | null, a?: Buffer) => resolve({ err: e, answer: a }),
        ),
      );
      const code = status[err?.code ?? status.OK];
      codes[code] = (codes[code] ?? 0) + 1;
      kinds[call.kind] = (kinds[call.kind] ?? 0) + 1;
      const wrong = judgeCall(call, err, answer);
      if (wrong) throw new Error(`${call.kind}: ${wrong}`);
    });
    const result = await fc.check(property, { numRuns: opts.runs, seed, endOnFailure: false });
    const failure = result.failed
      ? `${result.errorInstance instanceof Error ? result.errorInstance.message : String(result.errorInstance)}\n  bytes: ${(result.counterexample?.[0] as GrpcFuzzCall | undefined)?.bytes.toString('hex').slice(0, 400)}\n  reproduce with seed ${result.seed}, path ${result.counterexamplePath}`
      : undefined;
    return { runs: result.numRuns, seed, codes, kinds, failure };
  } finally {
    client.close();
  }
}
