import { z } from 'zod';

/**
 * Collections checked at a cost in issues that a body cannot multiply. zod reports every bad
 * entry of a record, and every bad element of an array without a maximum length (with one, it
 * checks the length first and stops there): 200,000 bad parameters made 200,000 issues. The
 * wrapper gives zod's verdict with one issue at most, and the OpenAPI document of the record.
 */

/** The JSON Schema of `schema`, for a wrapper whose own check zod cannot describe. */
export function jsonSchemaOf(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _, ...json } = z.toJSONSchema(schema, { io: 'input' }) as Record<string, unknown>;
  return json;
}

/** A record of `value`s checked entry by entry up to its first bad entry, which alone is reported. */
export function firstFailureRecord<V extends z.ZodType>(
  value: V,
  description: string,
): z.ZodType<Record<string, z.output<V>>, Record<string, z.input<V>>> {
  const documented = z.record(z.string(), value).describe(description);
  return z
    .any()
    .check((ctx) => {
      const v: unknown = ctx.value;
      if (v === null || typeof v !== 'object' || Array.isArray(v)) {
        const result = documented.safeParse(v);
        if (!result.success) ctx.issues.push(...(result.error.issues as z.core.$ZodRawIssue[]));
        return;
      }
      const out: Record<string, z.output<V>> = {};
      for (const [key, entry] of Object.entries(v)) {
        const result = value.safeParse(entry);
        if (!result.success) {
          ctx.issues.push(
            ...result.error.issues.map((issue) => ({ ...issue, path: [key, ...issue.path] }) as z.core.$ZodRawIssue),
          );
          return;
        }
        out[key] = result.data;
      }
      ctx.value = out;
    })
    .meta(jsonSchemaOf(documented)) as unknown as z.ZodType<Record<string, z.output<V>>, Record<string, z.input<V>>>;
}
