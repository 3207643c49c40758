export * from './adapter-options.ts'
export * from './compile-shim.ts'
export * from './ffi-types.ts'
export * from './library/index.ts'
