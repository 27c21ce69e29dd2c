import { z } from 'zod';
import { firstFailureRecord } from '../schemas/bounded.js';
import { int } from '../schemas/common.js';
import { ElementSchema } from '../schemas/tensor.js';
import { NestedDataSchema } from '../schemas/tensor-data.js';

/**
 * The Open Inference Protocol (KServe v2) REST messages this service speaks, with its binary
 * tensor data extension. Bodies are strict, as /v1's are: an unknown field is usually a typo.
 */

export const DatatypeSchema = z
  .enum(['FP32', 'FP64'])
  .describe('Element type: FP32 (float32) or FP64 (float64); all tensors of one request share it.');
export type Datatype = z.infer<typeof DatatypeSchema>;

const ShapeSchema = z.array(int(1)).min(1).max(4).describe('Dimensions, each an integer >= 1.');

export const ParametersSchema = firstFailureRecord(
  z.union([z.string(), z.number(), z.boolean()]),
  "Op hyper-parameters, scalars only: pairs are split (`stride_h`, `stride_w`, `padding_h`, `padding_w`, `output_padding_h`, `output_padding_w`, `dilation_h`, `dilation_w`, `kernel_h`, `kernel_w`, `output_h`, `output_w`, `input_h`, `input_w`), plus `groups`, `scale`, `compute_bias`, and the extension's `binary_data_output`. Which ones a model takes, and their defaults, are those of its /v1 route; an unknown one is a 400.",
);

/** More inputs or outputs than any model has. */
const MAX_TENSORS = 16;

export const RequestInputSchema = z.strictObject({
  name: z
    .string()
    .describe(
      'The tensor: `input`, `weight`, `bias`, `grad_output`, `columns`, `grad_weight` or `grad_bias`, as the model lists.',
    ),
  shape: ShapeSchema,
  datatype: DatatypeSchema,
  parameters: z
    .strictObject({
      binary_data_size: int(0)
        .optional()
        .describe("Binary extension: the tensor's bytes follow the JSON header, in input order (little-endian)."),
    })
    .optional(),
  data: NestedDataSchema.optional().describe(
    'Row-major values (flat, or nested by dimension); `"NaN"`, `"Infinity"`, `"-Infinity"` as strings. Omitted when binary_data_size is given.',
  ),
});

export const RequestOutputSchema = z.strictObject({
  name: z.string().describe('An output the model lists.'),
  parameters: z
    .strictObject({ binary_data: z.boolean().optional().describe('Return this output in the binary section.') })
    .optional(),
});

export const InferenceRequestSchema = z
  .strictObject({
    id: z.string().max(256).optional().describe('Echoed in the response.'),
    parameters: ParametersSchema.optional(),
    // At most one per tensor a model takes or gives (a name twice is refused). zod checks a
    // maximum length before any element: a million bad inputs make one issue, not millions,
    // and a million good ones are refused in the parse thread, not copied out of it.
    inputs: z.array(RequestInputSchema).min(1).max(MAX_TENSORS),
    outputs: z
      .array(RequestOutputSchema)
      .max(MAX_TENSORS)
      .optional()
      .describe("The outputs wanted, in order; all of the model's by default."),
  })
  // No id: like the /v1 bodies it stays inline, where its example becomes the request's example.
  .meta({
    examples: [
      {
        parameters: { stride_h: 2, stride_w: 2 },
        inputs: [
          { name: 'input', shape: [1, 1, 2, 2], datatype: 'FP32', data: [1, 2, 3, 4] },
          { name: 'weight', shape: [1, 1, 3, 3], datatype: 'FP32', data: [1, 1, 1, 1, 1, 1, 1, 1, 1] },
        ],
      },
    ],
  });
export type InferenceRequest = z.infer<typeof InferenceRequestSchema>;
export type RequestInput = z.infer<typeof RequestInputSchema>;

export const ResponseOutputSchema = z.object({
  name: z.string(),
  shape: z.array(z.number().int()),
  datatype: DatatypeSchema,
  parameters: z.object({ binary_data_size: z.number().int().optional() }).optional(),
  data: z
    .array(ElementSchema)
    .optional()
    .describe('Row-major values; absent when the output is in the binary section.'),
});

export const InferenceResponseSchema = z
  .object({
    model_name: z.string(),
    model_version: z.string().optional(),
    id: z.string().optional(),
    outputs: z.array(ResponseOutputSchema),
  })
  .meta({ id: 'InferenceResponse' });
export type InferenceResponse = z.infer<typeof InferenceResponseSchema>;

const MetadataTensorSchema = z.object({
  name: z.string(),
  datatype: DatatypeSchema,
  shape: z.array(z.number().int()).describe('-1 for a dimension of any size.'),
});

export const ModelMetadataSchema = z
  .object({
    name: z.string(),
    versions: z.array(z.string()),
    platform: z.string(),
    inputs: z.array(MetadataTensorSchema),
    outputs: z.array(MetadataTensorSchema),
  })
  .meta({ id: 'ModelMetadata' });

export const ServerMetadataSchema = z
  .object({ name: z.string(), version: z.string(), extensions: z.array(z.string()) })
  .meta({ id: 'ServerMetadata' });

export const V2ErrorSchema = z
  .object({ error: z.string() })
  .meta({ id: 'InferenceError', description: "The protocol's error body." });

/** A stored layer's metadata adds what each pass takes and gives: the layer holds its weight. */
const PassSchema = z.object({
  inputs: z.array(MetadataTensorSchema.extend({ optional: z.boolean() })),
  outputs: z.array(MetadataTensorSchema),
});

export const LayerMetadataSchema = ModelMetadataSchema.extend({
  parameters: z
    .object({
      passes: z
        .record(z.string(), PassSchema)
        .describe(
          'Each pass `parameters.pass` may pick (forward, grad_input, grad_parameters, backward): its inputs and outputs with the stored weight.',
        ),
      fixed: z.record(z.string(), z.number()).describe('The parameters the layer fixes (stride_h, ..., groups).'),
    })
    .optional()
    .describe('Stored layers only.'),
}).meta({ id: 'LayerMetadata' });

export const RepositoryIndexRequestSchema = z
  .strictObject({ ready: z.boolean().optional().describe('Only the models ready for inference.') })
  .nullish();

export const RepositoryIndexSchema = z
  .array(
    z.object({
      name: z.string(),
      version: z.string().optional(),
      state: z.enum(['READY', 'UNAVAILABLE']),
      reason: z
        .string()
        .describe('Why a layer is UNAVAILABLE (its last load failed, or it was unloaded); empty when READY.'),
    }),
  )
  .meta({ id: 'RepositoryIndex' });

const DurationStatSchema = z.object({ count: z.number().int(), ns: z.number().int() });

export const ModelStatsSchema = z
  .object({
    model_stats: z.array(
      z.object({
        name: z.string(),
        version: z.string(),
        last_inference: z.number().int().describe('Milliseconds since the epoch; 0: never.'),
        inference_count: z.number().int(),
        execution_count: z.number().int(),
        inference_stats: z.object({
          success: DurationStatSchema,
          fail: DurationStatSchema,
          queue: DurationStatSchema,
          compute_input: DurationStatSchema,
          compute_infer: DurationStatSchema,
          compute_output: DurationStatSchema,
          cache_hit: DurationStatSchema,
        }),
        batch_stats: z.array(
          z.object({
            batch_size: z.number().int(),
            compute_input: DurationStatSchema,
            compute_infer: DurationStatSchema,
            compute_output: DurationStatSchema,
          }),
        ),
      }),
    ),
  })
  .meta({ id: 'ModelStatistics' });

export const ModelConfigSchema = z
  .object({
    name: z.string(),
    backend: z.string(),
    max_batch_size: z.number().int(),
    input: z.array(z.object({ name: z.string(), data_type: z.string(), dims: z.array(z.number().int()) })),
    output: z.array(z.object({ name: z.string(), data_type: z.string(), dims: z.array(z.number().int()) })),
    parameters: z.record(z.string(), z.object({ string_value: z.string() })),
  })
  .meta({ id: 'ModelConfig', description: "Triton's model configuration, JSON form." });
