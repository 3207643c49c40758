export * from './compile-shim.ts'
export * from './ffi-types.ts'
