/**
 * The fuzzer's request generator (fast-check): valid requests, and valid requests broken in the
 * ways hostile or careless clients break them — random JSON, wrong types, wrong shapes, huge and
 * negative sizes, bad base64, mixed dtypes, inconsistent but well-formed ops, garbage bytes.
 */
import fc from 'fast-check';

export const ROUTES = [
  'conv-transpose2d/forward',
  'conv-transpose2d/grad-input',
  'conv-transpose2d/grad-parameters',
  'conv-transpose2d/backward',
  'conv2d/forward',
  'conv2d/grad-input',
  'conv2d/grad-parameters',
  'conv2d/backward',
  'im2col',
  'col2im',
] as const;

export interface FuzzRequest {
  readonly route: string;
  /** The body as sent: usually JSON text, sometimes not. */
  readonly body: string;
  readonly contentType: string;
  /** What generated it, for the report. */
  readonly kind: string;
  /** The request-target as written on the wire, when not `/v1/<route>`. */
  readonly target?: string;
  /** Sent without the API key: it must be refused whatever else it is. */
  readonly withoutKey?: boolean;
  /** Sent chunked, a chunk of this many bytes per write, rather than with its Content-Length. */
  readonly chunkBytes?: number;
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

const count = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

function tensor(shape: number[], dtype: 'float32' | 'float64', base64: boolean, seed: number): Json {
  const n = count(shape);
  const values = Array.from({ length: n }, (_, i) => ((((i + 1) * 2654435761 + seed) >>> 0) % 2001) / 1000 - 1);
  if (!base64) return { shape, dtype, data: dtype === 'float32' ? values.map(Math.fround) : values };
  const arr = dtype === 'float32' ? Float32Array.from(values) : Float64Array.from(values);
  return { shape, dtype, b64: Buffer.from(arr.buffer).toString('base64') };
}

const dim = fc.integer({ min: 1, max: 5 });
const small = fc.integer({ min: 1, max: 3 });

/** A consistent request for one of the ten routes: small shapes, random params. */
export const validRequest = fc
  .record({
    route: fc.constantFrom(...ROUTES),
    n: fc.option(fc.integer({ min: 1, max: 2 }), { nil: undefined }),
    groups: fc.integer({ min: 1, max: 2 }),
    cPerGroup: small,
    oPerGroup: small,
    h: dim,
    w: dim,
    kh: small,
    kw: small,
    stride: fc.integer({ min: 1, max: 3 }),
    padding: fc.integer({ min: 0, max: 2 }),
    dilation: fc.integer({ min: 1, max: 2 }),
    dtype: fc.constantFrom('float32' as const, 'float64' as const),
    base64: fc.boolean(),
    bias: fc.boolean(),
    seed: fc.nat(),
  })
  .map((p): Record<string, Json> & { route: string } => {
    const lead = p.n === undefined ? [] : [p.n];
    const c = p.groups * p.cPerGroup;
    const o = p.groups * p.oPerGroup;
    const t = (shape: number[]) => tensor(shape, p.dtype, p.base64, p.seed);
    const params = { stride: p.stride, padding: p.padding, dilation: p.dilation };
    // Input sizes large enough for every output to have at least one pixel.
    const h = p.h + p.dilation * (p.kh - 1);
    const w = p.w + p.dilation * (p.kw - 1);
    const input = t([...lead, c, h, w]);
    switch (p.route) {
      case 'conv2d/forward':
        return {
          route: p.route,
          input,
          weight: t([o, p.cPerGroup, p.kh, p.kw]),
          ...(p.bias ? { bias: t([o]) } : {}),
          ...params,
          groups: p.groups,
        };
      case 'conv-transpose2d/forward':
        return {
          route: p.route,
          input: t([...lead, c, p.h, p.w]),
          weight: t([c, p.oPerGroup, p.kh, p.kw]),
          ...(p.bias ? { bias: t([o]) } : {}),
          ...params,
          groups: p.groups,
        };
      case 'im2col':
        return { route: p.route, input, kernelSize: [p.kh, p.kw], ...params };
      default:
        // The other routes are reached through mutation; their valid form is not modelled here.
        return { route: p.route, input, weight: t([o, p.cPerGroup, p.kh, p.kw]), kernelSize: [p.kh, p.kw], ...params };
    }
  });

const hostileNumber = fc.oneof(
  fc.constantFrom(0, -1, -(2 ** 31), 2 ** 31, 2 ** 31 - 1, 2 ** 53, 1e308, -1e308, 0.5, -0.0, 1e39, 65536, 1_000_000),
  fc.integer(),
  fc.double(),
);

const hostileValue: fc.Arbitrary<Json> = fc.oneof(
  hostileNumber,
  fc.string({ maxLength: 20 }),
  fc.constantFrom(null, true, false, 'NaN', 'Infinity', '', '__proto__', 'float16', 'float64'),
  fc.array(hostileNumber, { maxLength: 6 }),
  fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Json>,
);

type Mutation = (body: Record<string, Json>, pick: number, value: Json) => [string, Record<string, Json>];

const tensorFields = (b: Record<string, Json>) =>
  Object.keys(b).filter((k) => typeof b[k] === 'object' && b[k] !== null && 'shape' in (b[k] as object));
const pickOf = <T>(xs: readonly T[], i: number): T | undefined => (xs.length === 0 ? undefined : xs[i % xs.length]);
const withTensor = (
  b: Record<string, Json>,
  pick: number,
  f: (t: Record<string, Json>) => Record<string, Json>,
): Record<string, Json> => {
  const field = pickOf(tensorFields(b), pick);
  return field === undefined ? b : { ...b, [field]: f({ ...(b[field] as Record<string, Json>) }) };
};

const MUTATIONS: readonly Mutation[] = [
  (b, i, v) => ['field set to a random value', { ...b, [pickOf(Object.keys(b), i) ?? 'input']: v }],
  (b, i) => [
    'field removed',
    Object.fromEntries(Object.entries(b).filter((_, j) => j !== i % Math.max(1, Object.keys(b).length))),
  ],
  (b, _i, v) => ['unknown field', { ...b, [`extra${String(v).slice(0, 5)}`]: v }],
  (b, i, v) => [
    'shape dimension replaced',
    withTensor(b, i, (t) => ({
      ...t,
      shape: (t.shape as number[]).map((d, j) =>
        j === i % (t.shape as number[]).length ? (typeof v === 'number' ? v : 2 ** 31) : d,
      ),
    })),
  ],
  (b, i) => ['huge shape', withTensor(b, i, (t) => ({ ...t, shape: [65536, 65536, 65536, 65536] }))],
  (b, i) => ['negative shape', withTensor(b, i, (t) => ({ ...t, shape: (t.shape as number[]).map((d) => -d) }))],
  (b, i) => ['rank changed', withTensor(b, i, (t) => ({ ...t, shape: [...(t.shape as number[]), 1, 1] }))],
  (b, i, v) => [
    'bad base64',
    withTensor(b, i, ({ data: _d, ...t }) => ({ ...t, b64: typeof v === 'string' ? `${v}*=` : 'A' })),
  ],
  (b, i) => [
    'truncated base64',
    withTensor(b, i, (t) =>
      typeof t.b64 === 'string' ? { ...t, b64: t.b64.slice(0, -4) } : { ...t, data: (t.data as Json[]).slice(1) },
    ),
  ],
  (b, i) => ['mixed dtypes', withTensor(b, i, (t) => ({ ...t, dtype: t.dtype === 'float64' ? 'float32' : 'float64' }))],
  (b, i, v) => [
    'data element replaced',
    withTensor(b, i, (t) => (Array.isArray(t.data) ? { ...t, data: t.data.map((x, j) => (j === 0 ? v : x)) } : t)),
  ],
  (b, _i, v) => [
    'param set to a hostile value',
    {
      ...b,
      [['stride', 'padding', 'dilation', 'groups', 'outputPadding', 'kernelSize', 'scale'][
        Math.abs(Number(v) | 0) % 7
      ]]: v,
    },
  ],
  (b) => ['huge stride', { ...b, stride: 1_000_000 }],
  (b) => ['huge dilation', { ...b, dilation: [2 ** 31 - 1, 1] }],
  (b) => ['groups that do not divide', { ...b, groups: 3 }],
  (b, i) => ['moved to another route', { ...b, route: ROUTES[i % ROUTES.length] }],
  (b, _i, v) => [
    'prototype pollution',
    { ...b, ['__proto__']: { polluted: v } as Json, constructor: { prototype: { polluted: true } } },
  ],
  // Written in as text below: JSON.stringify itself cannot nest this deep.
  (b) => ['deeply nested field', b],
];

/** Nesting deeper than any call stack: parsers and validators must not recurse on it. */
const DEEP = 100_000;

/** A valid request, maybe mutated once or twice. */
const mutatedRequest = fc
  .tuple(
    validRequest,
    fc.array(fc.tuple(fc.nat(MUTATIONS.length - 1), fc.nat(), hostileValue), { minLength: 0, maxLength: 2 }),
    fc.boolean(),
  )
  .map(([valid, muts, outputEncoding]): FuzzRequest => {
    let body: Record<string, Json> = valid;
    const kinds: string[] = [];
    for (const [m, pick, value] of muts) {
      const [kind, next] = MUTATIONS[m](body, pick, value);
      kinds.push(kind);
      body = next;
    }
    const { route, ...rest } = body as { route: string } & Record<string, Json>;
    const payload = outputEncoding ? { ...rest, outputEncoding: 'base64' } : rest;
    // JSON.stringify drops a literal __proto__ key set by spreading; write it in as text instead.
    let text = JSON.stringify(payload);
    if (kinds.includes('prototype pollution')) text = text.replace(/^\{/, '{"__proto__":{"polluted":1},');
    if (kinds.includes('deeply nested field'))
      text = text.replace(/^\{/, `{"deep":${'['.repeat(DEEP)}${']'.repeat(DEEP)},`);
    return {
      route: typeof route === 'string' ? route : 'im2col',
      body: text,
      contentType: 'application/json',
      kind: kinds.length === 0 ? 'valid' : kinds.join(' + '),
    };
  });

const randomJson = fc.tuple(fc.constantFrom(...ROUTES), fc.jsonValue({ maxDepth: 4 })).map(
  ([route, v]): FuzzRequest => ({
    route,
    body: JSON.stringify(v) ?? 'null',
    contentType: 'application/json',
    kind: 'random JSON',
  }),
);

const garbage = fc
  .tuple(
    fc.constantFrom(...ROUTES),
    fc.string({ maxLength: 200, unit: 'binary' }),
    fc.constantFrom('application/json', 'text/plain', 'application/octet-stream', 'application/json; charset=utf-16'),
  )
  .map(([route, text, contentType]): FuzzRequest => ({ route, body: text, contentType, kind: 'garbage text' }));

/**
 * An im2col request whose base64 is long enough (over 64 Ki characters) for the body parser's own
 * path (src/tensor/json-body.ts), often with one character changed: anywhere, or in the last
 * group where padding and its bits live, to one inside or outside the alphabet.
 */
const longBase64Request = fc
  .record({
    dtype: fc.constantFrom('float32' as const, 'float64' as const),
    seed: fc.nat(),
    change: fc.boolean(),
    inLastGroup: fc.boolean(),
    at: fc.nat(),
    char: fc.constantFrom('A', 'B', 'g', '+', '/', '=', '-', '_', '*', ' ', '\n', '\\', '"', '\u00e9'),
    insert: fc.boolean(),
    deep: fc.boolean(),
  })
  .map((p): FuzzRequest => {
    const input = tensor([1, 16, 32, 32], p.dtype, true, p.seed) as { b64: string };
    let b64 = input.b64;
    if (p.change) {
      const i = p.inLastGroup ? b64.length - 1 - (p.at % 4) : p.at % b64.length;
      b64 = b64.slice(0, i) + p.char + b64.slice(p.insert ? i : i + 1);
    }
    let body = JSON.stringify({ input: { ...input, b64 }, kernelSize: 3 });
    if (p.deep) body = body.replace(/^\{/, `{"deep":${'['.repeat(DEEP)}${']'.repeat(DEEP)},`);
    const kind = `long base64${p.change ? ', one character changed' : ''}${p.deep ? ', beside a deeply nested field' : ''}`;
    return { route: 'im2col', body, contentType: 'application/json', kind };
  });

const percentEncoded = (c: string, upper: boolean) =>
  `%${c.charCodeAt(0).toString(16)[upper ? 'toUpperCase' : 'toLowerCase']()}`;

/**
 * A valid request under another spelling of its path, sent without the API key: percent-encoded
 * characters (either case) anywhere, an absolute-form target, dot segments, doubled slashes.
 * Whatever the router makes of it, it must never run (401, 404, or a 400 for the target).
 */
const spelledWithoutKey = fc
  .tuple(
    validRequest,
    fc.array(fc.tuple(fc.nat(), fc.boolean()), { minLength: 0, maxLength: 4 }),
    fc.constantFrom('none', 'absolute', 'dot', 'dotdot', 'double', 'v2'),
  )
  .map(([valid, encodings, form]): FuzzRequest => {
    const { route, ...rest } = valid;
    let path =
      form === 'v2' ? `/v2/models/${route.replace(/\/forward$/, '').replace(/[/-]/g, '_')}/infer` : `/v1/${route}`;
    const chars = [...path];
    for (const [at, upper] of encodings) {
      const i = at % chars.length;
      if (!chars[i].startsWith('%')) chars[i] = percentEncoded(chars[i], upper);
    }
    path = chars.join('');
    const target = {
      none: path,
      v2: path,
      absolute: `http://localhost${path}`,
      dot: path.replace(/^(\/[^/]+)/, '$1/.'),
      dotdot: `/x/..${path}`,
      double: path.replace(/^(\/[^/]+)\//, '$1//'),
    }[form];
    return {
      route,
      body: JSON.stringify(rest),
      contentType: 'application/json',
      kind: `spelled path without a key (${form})`,
      target,
      withoutKey: true,
    };
  });

/**
 * A body within the limits that breaks the schema millions of times: every element of a large
 * `data` not a number, or hundreds of thousands of unknown fields. Its 400 must come in time
 * proportional to its size, with a problem document of bounded size.
 */
const hugeInvalid = fc
  .record({
    what: fc.constantFrom('x values', 'unknown fields', 'nested arrays'),
    count: fc.integer({ min: 100_000, max: 1_000_000 }),
  })
  .map(({ what, count }): FuzzRequest => {
    let body: string;
    if (what === 'x values')
      body = `{"input":{"shape":[1,1,${count}],"data":[${'"x",'.repeat(count - 1)}"x"]},"kernelSize":1}`;
    else if (what === 'unknown fields')
      body = `{"input":{"shape":[1,1,2],"data":[1,2]},"kernelSize":1,${Array.from({ length: count / 5 }, (_, i) => `"f${i}":0`).join(',')}}`;
    else body = `{"input":{"shape":[1,1,${count}],"data":[${'[],'.repeat(count - 1)}[]]},"kernelSize":1}`;
    return { route: 'im2col', body, contentType: 'application/json', kind: `huge invalid body (${what})` };
  });

/**
 * A request sent chunked, in chunks from a byte up: a correct answer or a problem document as
 * with its length; cut finer than the server reads (src/body-pieces.ts), a 400 in time, never a
 * stall.
 */
const chunked = fc
  .record({ req: mutatedRequest, chunkBytes: fc.constantFrom(1, 3, 64, 512, 4096) })
  .map(({ req, chunkBytes }): FuzzRequest => ({ ...req, chunkBytes, kind: `chunked (${chunkBytes}-byte chunks)` }));

export const fuzzRequest: fc.Arbitrary<FuzzRequest> = fc.oneof(
  { weight: 50, arbitrary: mutatedRequest },
  { weight: 20, arbitrary: randomJson },
  { weight: 10, arbitrary: garbage },
  { weight: 10, arbitrary: longBase64Request },
  { weight: 10, arbitrary: spelledWithoutKey },
  { weight: 5, arbitrary: chunked },
  { weight: 1, arbitrary: hugeInvalid },
);
