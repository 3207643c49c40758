export * from './serve-worker.ts'
export * from './worker-host.ts'
export * from './worker-protocol.ts'
