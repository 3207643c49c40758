export * from './clause-terminator.ts'
export * from './espeak-error.ts'
export * from './espeak-phonemizer.ts'
export * from './resolve-espeak.ts'
