import { z } from 'zod';
import { OpError } from '../ops/errors.js';
import { checkConvParams, checkOutputPadding } from '../ops/params.js';
import type { ConvParams } from '../ops/types.js';
import { v2Text } from '../v2/names.js';

/**
 * A stored layer's configuration: Triton's model configuration in its JSON form, with
 * `"backend": "convsvc"` and the layer in `parameters` as Triton writes custom settings
 * (`{"stride_h": {"string_value": "2"}}`). The parameter names are the /v2 infer parameters'
 * (src/v2/names.ts); their ranges and cross rules are the stateless ops' (src/ops/params.ts).
 */

export const LAYER_BACKEND = 'convsvc';

/** The ops a layer may be, by their /v2 model name, and the kernel family each runs. */
export const LAYER_OPS = { conv_transpose2d: 'conv-transpose2d', conv2d: 'conv2d' } as const;
export type LayerOp = keyof typeof LAYER_OPS;
export type LayerKind = (typeof LAYER_OPS)[LayerOp];

const stringValue = <T extends z.ZodType<string>>(value: T) => z.strictObject({ string_value: value });

const whole = stringValue(
  z.string().regex(/^\d{1,10}$/, 'must be a whole number, written in decimal digits'),
).transform((v) => Number(v.string_value));

/** A pair parameter's stem (`stride` -> `stride_h`, `stride_w`) and the ConvParams field it fills. */
const PAIRS = {
  stride: { field: 'stride', default: 1 },
  padding: { field: 'padding', default: 0 },
  output_padding: { field: 'outputPadding', default: 0 },
  dilation: { field: 'dilation', default: 1 },
} as const;

export const LayerParametersSchema = z.strictObject({
  op: stringValue(z.enum(Object.keys(LAYER_OPS) as [LayerOp, ...LayerOp[]])),
  stride_h: whole.optional(),
  stride_w: whole.optional(),
  padding_h: whole.optional(),
  padding_w: whole.optional(),
  output_padding_h: whole.optional(),
  output_padding_w: whole.optional(),
  dilation_h: whole.optional(),
  dilation_w: whole.optional(),
  groups: whole.optional(),
});

/** Triton's tensor entry of a configuration, as GET .../config answers it. */
const ConfigTensorSchema = z.strictObject({
  name: z.string().max(64),
  data_type: z.enum(['TYPE_FP32', 'TYPE_FP64']),
  dims: z.array(z.number().int().min(-1)).max(8),
});

/** The configuration a load may send; what a layer answers GET .../config with is accepted back. */
export const LayerConfigSchema = z
  .strictObject({
    name: z.string().max(128).optional(),
    backend: z.literal(LAYER_BACKEND, { error: `must be "${LAYER_BACKEND}"` }),
    max_batch_size: z.literal(0, { error: 'must be 0: the batch is the first dimension of each tensor' }).optional(),
    // Informative only: a layer's tensors follow from its stored weight.
    input: z.array(ConfigTensorSchema).max(8).optional(),
    output: z.array(ConfigTensorSchema).max(8).optional(),
    parameters: LayerParametersSchema,
  })
  .transform((config, ctx) => {
    const p = config.parameters;
    const params: Record<string, unknown> = { groups: p.groups ?? 1 };
    for (const [stem, { field, default: value }] of Object.entries(PAIRS)) {
      const h = p[`${stem}_h` as keyof typeof p] as number | undefined;
      const w = p[`${stem}_w` as keyof typeof p] as number | undefined;
      if ((h === undefined) !== (w === undefined)) {
        ctx.addIssue({
          code: 'custom',
          path: ['parameters', `${stem}_h`],
          message: `${stem}_h and ${stem}_w go together`,
        });
        return z.NEVER;
      }
      params[field] = [h ?? value, w ?? value];
    }
    const op = p.op.string_value;
    const kind = LAYER_OPS[op];
    const conv = params as unknown as ConvParams;
    try {
      checkConvParams(conv, kind);
      if (kind === 'conv-transpose2d') checkOutputPadding(conv);
    } catch (err) {
      if (!(err instanceof OpError)) throw err;
      ctx.addIssue({ code: 'custom', path: ['parameters'], message: v2Text(err.message) });
      return z.NEVER;
    }
    return { name: config.name, op, kind, params: conv };
  });

export type LayerConfig = z.output<typeof LayerConfigSchema>;

export class LayerConfigError extends Error {
  override readonly name = 'LayerConfigError';
}

/** A configuration from its JSON text; throws LayerConfigError with the first problem. */
export function parseLayerConfig(text: string): LayerConfig {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new LayerConfigError('the configuration is not JSON');
  }
  const parsed = LayerConfigSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const at = issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
    throw new LayerConfigError(`the configuration is not valid: ${at}${issue.message}`);
  }
  return parsed.data;
}

/** The /v2 infer parameters a layer fixes, by name (`stride_h` -> 2). */
export function fixedParameters(kind: LayerKind, p: ConvParams): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [stem, { field }] of Object.entries(PAIRS)) {
    // conv2d takes no output padding (it is always 0 there).
    if (kind === 'conv2d' && field === 'outputPadding') continue;
    const [h, w] = p[field];
    out[`${stem}_h`] = h;
    out[`${stem}_w`] = w;
  }
  out.groups = p.groups;
  return out;
}
