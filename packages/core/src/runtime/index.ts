export * from './dispatcher.ts'
export * from './request-timeouts.ts'
export * from './dispatch-trace.ts'
