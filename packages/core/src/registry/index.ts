export * from './handlers.ts'
export * from './model-registry.ts'
export * from './model-status.ts'
export type { ReadyWaitOptions } from './ready-wait.ts'
