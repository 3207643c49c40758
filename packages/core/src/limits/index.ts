export * from './concurrency-limiter.ts'
export * from './model-limits.ts'
