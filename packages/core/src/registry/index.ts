export * from './handlers.ts'
export * from './model-registry.ts'
