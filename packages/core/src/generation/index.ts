export * from './generation-event.ts'
