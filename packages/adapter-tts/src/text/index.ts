export * from './normalize-text.ts'
export * from './split-text.ts'
