export * from './adapter-manifest.ts'
export * from './adapter-v1.ts'
export * from './engine-status.ts'
export * from './model-config.ts'
