export * from './training-job.ts'
export * from './training-jobs.ts'
