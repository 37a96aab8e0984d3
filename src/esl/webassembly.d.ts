/**
 * The part of the WebAssembly JS API that simd-scan.ts uses. TypeScript declares it in its DOM library, which this
 * project does not compile with (and @types/node 20 does not declare it).
 */
declare namespace WebAssembly {
  class Module {
    constructor(bytes: Uint8Array);
  }
  class Instance {
    constructor(module: Module, imports?: Record<string, never>);
    readonly exports: Record<string, unknown>;
  }
  class Memory {
    readonly buffer: ArrayBuffer;
  }
}
