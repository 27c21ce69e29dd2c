import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { GridArgs } from '../kernels/sample-columns.js';
import { projectRoot } from '../project-root.js';
import { type WasmMemory, wasm } from './wasm-api.js';

/** What assembly/index.ts exports. Addresses are byte offsets into `memory`. */
export interface GemmExports {
  readonly memory: WasmMemory;
  heapBase(): number;
  workspaceBytesF32(): number;
  workspaceBytesF64(): number;
  gemmF32(...args: GemmArgs): void;
  gemmF64(...args: GemmArgs): void;
  col2imF32(...args: ColumnsArgs): void;
  col2imF64(...args: ColumnsArgs): void;
  im2colF32(...args: ColumnsArgs): void;
  im2colF64(...args: ColumnsArgs): void;
}

/** col2im's and im2col's: the source's address, the destination's, then the grid. */
type ColumnsArgs = [from: number, to: number, ...grid: GridArgs];

/** The host's GemmArgs with the operands as addresses in `memory` (offsets folded in), and the packing workspace's. */
type GemmArgs = [
  transA: number,
  transB: number,
  m: number,
  n: number,
  k: number,
  alpha: number,
  a: number,
  lda: number,
  b: number,
  ldb: number,
  beta: number,
  c: number,
  ldc: number,
  packed: number,
];

/** Where `npm run build:wasm` writes the module, relative to the project root. */
const WASM_PATH = join('build', 'wasm', 'gemm.wasm');

/** The built module's bytes, or null when it was not built. */
export function wasmBytes(): Uint8Array | null {
  const root = projectRoot();
  const path = root === null ? null : join(root, WASM_PATH);
  return path !== null && existsSync(path) ? readFileSync(path) : null;
}

let instance: GemmExports | null | undefined;

/**
 * This thread's instance of the GEMM module, compiled and instantiated on first use (each worker
 * thread has its own, with its own memory), or null when the module is missing or the runtime
 * cannot validate it (no SIMD).
 */
export function gemmModule(): GemmExports | null {
  if (instance !== undefined) return instance;
  const bytes = wasmBytes();
  if (bytes === null || !wasm.validate(bytes)) return (instance = null);
  const module = new wasm.Module(bytes);
  instance = new wasm.Instance(module, {}).exports as unknown as GemmExports;
  return instance;
}
