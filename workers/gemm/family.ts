/**
 * The GEMM families GEMM_VARIANT may force: the native (OpenBLAS) addon, the WebAssembly SIMD
 * module, or the TypeScript reference. Unset, the registry takes the best one offered.
 */
export const GEMM_FAMILIES = ['native', 'wasm', 'typescript'] as const;

export type GemmFamily = (typeof GEMM_FAMILIES)[number];

export const isGemmFamily = (v: string): v is GemmFamily => (GEMM_FAMILIES as readonly string[]).includes(v);
