export * from "./concurrency-limiter.ts"
