/**
 * The few parts of the WebAssembly JS API this project uses. The compiler's ES lib has no
 * WebAssembly types (they come with the DOM lib), so they are stated here and read off
 * globalThis, where every Node version has them.
 */
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}

interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { readonly exports: object };
}

export const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
