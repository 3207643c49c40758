export * from './no-library-found-error.ts'
export * from './resolve-engine-library.ts'
export * from './smoke-test-error.ts'
export * from './smoke-test.ts'
