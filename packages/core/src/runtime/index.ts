export * from './dispatcher.ts'
export * from './request-timeouts.ts'
