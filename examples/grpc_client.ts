/**
 * convsvc over gRPC from TypeScript: @grpc/grpc-js with the stubs @grpc/proto-loader makes from
 * proto/grpc_service.proto at run time (no generated code), the Open Inference Protocol's
 * ModelInfer with tensors as raw little-endian bytes, then the same call with typed contents, and
 * a check that both agree.
 *
 *     CONVSVC_GRPC=localhost:8081 npx tsx examples/grpc_client.ts
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { credentials, loadPackageDefinition, Metadata, type ServiceClientConstructor } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';

/** proto/ of the checkout this file is in (it runs from examples/ or, compiled, from dist/examples/). */
function protoDir(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); dir !== dirname(dir); dir = dirname(dir))
    if (existsSync(join(dir, 'proto', 'grpc_service.proto'))) return join(dir, 'proto');
  throw new Error('proto/grpc_service.proto not found above this file');
}

const definition = loadSync('grpc_service.proto', {
  includeDirs: [protoDir()],
  keepCase: true,
  longs: Number,
  defaults: true,
  oneofs: true,
});
const { inference } = loadPackageDefinition(definition) as unknown as {
  inference: { GRPCInferenceService: ServiceClientConstructor };
};
const client = new inference.GRPCInferenceService(
  process.env.CONVSVC_GRPC ?? 'localhost:8081',
  credentials.createInsecure(),
  {
    // Answers of large tensors: the defaults refuse messages over 4 MiB and keep a 64 KiB window.
    'grpc.max_receive_message_length': 256 * 2 ** 20,
    'grpc-node.flow_control_window': 16 * 2 ** 20,
  },
);
const metadata = new Metadata();
if (process.env.CONVSVC_API_KEY) metadata.set('authorization', `Bearer ${process.env.CONVSVC_API_KEY}`);

function call<T>(method: string, request: unknown): Promise<T> {
  return new Promise((resolve, reject) =>
    (client as unknown as Record<string, (...a: unknown[]) => void>)[method](
      request,
      metadata,
      (err: Error | null, res: T) => (err ? reject(err) : resolve(res)),
    ),
  );
}

interface Output {
  name: string;
  datatype: string;
  shape: number[];
  contents: { fp32_contents: number[] } | null;
}
interface Answer {
  outputs: Output[];
  raw_output_contents: Buffer[];
}

let seed = 7;
const random = (n: number) =>
  Float32Array.from({ length: n }, () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1);
const bytes = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

const server = await call<{ name: string; version: string }>('ServerMetadata', {});
console.log(`${server.name} ${server.version} over gRPC`);

// A transposed convolution: [2, 4, 8, 8] -> [2, 3, 16, 16] (stride 2, padding 1, kernel 4).
const x = random(2 * 4 * 8 * 8);
const w = random(4 * 3 * 4 * 4);
const request = {
  model_name: 'conv_transpose2d',
  parameters: {
    stride_h: { int64_param: 2 },
    stride_w: { int64_param: 2 },
    padding_h: { int64_param: 1 },
    padding_w: { int64_param: 1 },
  },
  inputs: [
    { name: 'input', datatype: 'FP32', shape: [2, 4, 8, 8] },
    { name: 'weight', datatype: 'FP32', shape: [4, 3, 4, 4] },
  ],
};

const raw = await call<Answer>('ModelInfer', { ...request, raw_input_contents: [bytes(x), bytes(w)] });
const out = raw.outputs[0];
const b = raw.raw_output_contents[0];
const values = new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
console.log(`ModelInfer (raw contents): ${out.name} ${out.datatype} [${out.shape.join(', ')}]`);

const typed = await call<Answer>('ModelInfer', {
  ...request,
  parameters: { ...request.parameters, binary_data_output: { bool_param: false } },
  inputs: [
    { ...request.inputs[0], contents: { fp32_contents: [...x] } },
    { ...request.inputs[1], contents: { fp32_contents: [...w] } },
  ],
});
const same = typed.outputs[0].contents!.fp32_contents.every((v, i) => Object.is(Math.fround(v), values[i]));
console.log(same ? 'raw and typed contents agree bit for bit' : 'raw and typed contents DIFFER');
client.close();
if (!same) process.exit(1);
