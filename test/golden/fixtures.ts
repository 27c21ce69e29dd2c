/**
 * Typed access to the PyTorch golden vectors in test/fixtures/golden/ (written by
 * scripts/gen_golden.py, committed so the suite needs no Python). Each file holds the cases of
 * one route; a case's `request` is a literal body for that route and its `response` the result
 * fields the route answers with. The op tests and the HTTP tests read the same files through
 * this module, so both hold the service to one reference.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { DTYPES, type Dtype } from '../../workers/geometry.js';

import { fixturePath } from '../helpers/paths.js';

export { DTYPES, type Dtype };

export const GOLDEN_ROUTES = [
  '/v1/conv-transpose2d/forward',
  '/v1/conv-transpose2d/grad-input',
  '/v1/conv-transpose2d/grad-parameters',
  '/v1/conv-transpose2d/backward',
  '/v1/conv2d/forward',
  '/v1/conv2d/grad-input',
  '/v1/conv2d/grad-parameters',
  '/v1/conv2d/backward',
  '/v1/im2col',
  '/v1/col2im',
] as const;
export type GoldenRoute = (typeof GOLDEN_ROUTES)[number];

/** A tensor as docs/api.md writes it in JSON form. Golden data is always finite. */
export interface GoldenTensor {
  readonly shape: readonly number[];
  readonly dtype: Dtype;
  readonly data: readonly number[];
}

/** A pair parameter in either of the forms a client may send. */
export type PairForm = number | readonly [number, number];

/** The union of every route's body fields; each case carries only its route's. */
export interface GoldenRequest {
  readonly input?: GoldenTensor;
  readonly weight?: GoldenTensor;
  readonly bias?: GoldenTensor;
  readonly gradOutput?: GoldenTensor;
  readonly gradWeight?: GoldenTensor;
  readonly gradBias?: GoldenTensor;
  readonly columns?: GoldenTensor;
  readonly inputShape?: readonly number[];
  readonly kernelSize?: PairForm;
  readonly outputSize?: PairForm;
  readonly stride?: PairForm;
  readonly padding?: PairForm;
  readonly outputPadding?: PairForm;
  readonly dilation?: PairForm;
  readonly groups?: number;
  readonly scale?: number;
  readonly computeBias?: boolean;
}

export type ResultName = 'output' | 'gradInput' | 'gradWeight' | 'gradBias' | 'columns';
export type GoldenResponse = Readonly<Partial<Record<ResultName, GoldenTensor>>>;

export interface GoldenCase {
  readonly name: string;
  readonly dtype: Dtype;
  readonly request: GoldenRequest;
  readonly response: GoldenResponse;
}

export interface GoldenFile {
  readonly route: GoldenRoute;
  readonly generator: string;
  readonly torch: string;
  readonly cases: readonly GoldenCase[];
}

/** '/v1/conv2d/grad-input' -> 'conv2d-grad-input.json'. */
export const goldenFileName = (route: GoldenRoute): string =>
  `${route.replace(/^\/v1\//, '').replaceAll('/', '-')}.json`;

/** The worker op name of a route: the route without its version prefix. */
export const goldenOp = (route: GoldenRoute): string => route.replace(/^\/v1\//, '');

const isGoldenRoute = (route: unknown): route is GoldenRoute => (GOLDEN_ROUTES as readonly unknown[]).includes(route);

function readGolden(fileName: string): GoldenFile {
  const file = JSON.parse(readFileSync(fixturePath('golden', fileName), 'utf8')) as GoldenFile;
  // A file renamed or hand-edited into the wrong route would silently test the wrong op.
  if (!isGoldenRoute(file.route) || goldenFileName(file.route) !== fileName) {
    throw new Error(`${fileName}: route ${String(file.route)} does not belong in this file`);
  }
  return file;
}

export const loadGolden = (route: GoldenRoute): GoldenFile => readGolden(goldenFileName(route));

/** Every golden file on disk, whether or not GOLDEN_ROUTES knows its route yet. */
export const allGoldenFiles = (): GoldenFile[] =>
  readdirSync(fixturePath('golden'))
    .filter((name) => name.endsWith('.json'))
    .sort()
    .map(readGolden);

export function toTypedArray(tensor: GoldenTensor): Float32Array | Float64Array {
  return tensor.dtype === 'float64' ? Float64Array.from(tensor.data) : Float32Array.from(tensor.data);
}

/** Relative tolerances of docs/semantics.md: float32 results against a float64 reference, float64 near exact. */
export const RTOL: Readonly<Record<Dtype, number>> = { float32: 1e-4, float64: 1e-9 };

/** Fails unless the array's storage is the dtype's: a float32 request must not come back as float64. */
export function assertDtype(got: ArrayLike<number>, dtype: Dtype, message = 'result'): void {
  const want = dtype === 'float64' ? Float64Array : Float32Array;
  assert.ok(got instanceof want, `${message}: expected a ${want.name}, got ${got.constructor.name}`);
}

/**
 * |got - want| <= rtol * max(1, max|want|) element by element: the scale is the tensor's, so
 * entries that cancel to near zero are not held to a relative bound they cannot meet.
 */
export function assertClose(
  got: ArrayLike<number>,
  want: GoldenTensor | ArrayLike<number>,
  dtype: Dtype,
  message = 'result',
): void {
  const expected: ArrayLike<number> = 'data' in want ? want.data : want;
  assert.equal(got.length, expected.length, `${message}: length`);
  let magnitude = 1;
  for (let i = 0; i < expected.length; i++) magnitude = Math.max(magnitude, Math.abs(expected[i]));
  const tolerance = RTOL[dtype] * magnitude;
  for (let i = 0; i < expected.length; i++) {
    const error = Math.abs(got[i] - expected[i]);
    // Written so that NaN fails too.
    if (!(error <= tolerance)) {
      assert.fail(`${message}[${i}]: got ${got[i]}, want ${expected[i]} (|error| ${error} > tolerance ${tolerance})`);
    }
  }
}
