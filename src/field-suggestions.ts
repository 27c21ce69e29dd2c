import type { z } from 'zod';

/** The part of a zod schema's definition this walk reads. */
interface Def {
  readonly type: string;
  readonly in?: z.ZodType;
  readonly innerType?: z.ZodType;
  readonly element?: z.ZodType;
  readonly options?: readonly z.ZodType[];
  readonly shape?: Readonly<Record<string, z.ZodType>>;
}

const defOf = (schema: z.ZodType): Def => (schema as unknown as { _zod: { def: Def } })._zod.def;

/** The object schemas `schema` may be at its top, through wrappers, pipes and unions. */
function objects(schema: z.ZodType | undefined, depth = 0): Def[] {
  if (schema === undefined || depth > 8) return [];
  const def = defOf(schema);
  if (def.type === 'object') return [def];
  if (def.type === 'pipe') return objects(def.in, depth + 1);
  if (def.type === 'union') return (def.options ?? []).flatMap((o) => objects(o, depth + 1));
  if (def.innerType) return objects(def.innerType, depth + 1);
  return [];
}

/** The field names the schema knows at `path` (an object's keys), or none. */
export function knownFields(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let here: z.ZodType[] = [schema];
  for (const step of path) {
    const next: z.ZodType[] = [];
    for (const s of here) {
      if (typeof step === 'number') {
        const def = defOf(s);
        const unwrapped = def.type === 'array' ? def.element : def.innerType ? defOf(def.innerType).element : undefined;
        if (unwrapped) next.push(unwrapped);
      } else {
        for (const o of objects(s)) if (o.shape?.[String(step)]) next.push(o.shape[String(step)]);
      }
    }
    here = next;
  }
  return [...new Set(here.flatMap((s) => objects(s).flatMap((o) => Object.keys(o.shape ?? {}))))];
}

/** Edit distance, for names of a few dozen characters. */
function distance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++)
      next[j] = Math.min(row[j] + 1, next[j - 1] + 1, row[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    row = next;
  }
  return row[b.length];
}

const loose = (name: string) => name.replace(/[_-]/g, '').toLowerCase();

/**
 * What to tell a caller who sent `unknown` where `known` are the fields: the same name in
 * another spelling (`output_padding`, /v2's, for /v1's `outputPadding`), or a near one (`strides`
 * for `stride`); null when nothing is close.
 */
export function suggestField(unknown: string, known: readonly string[]): string | null {
  if (unknown.length > 64) return null;
  const same = known.find((k) => loose(k) === loose(unknown));
  if (same !== undefined) return `the field is spelled "${same}" here`;
  let best: string | null = null;
  let bestDistance = Math.max(1, Math.floor(unknown.length / 4)) + 1;
  for (const k of known) {
    const d = distance(loose(unknown), loose(k));
    if (d < bestDistance) [best, bestDistance] = [k, d];
  }
  return best === null ? null : `did you mean "${best}"?`;
}
