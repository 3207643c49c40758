export * from './compile-shim.ts'
export * from './ffi-types.ts'
export * from './adapter-options.ts'
