export * from './finish-reason.ts'
export * from './output-chunk-factories.ts'
export * from './output-chunk.ts'
