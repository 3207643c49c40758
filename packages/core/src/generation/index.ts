export * from './generation-event.ts'
export * from './tool-modes.ts'
