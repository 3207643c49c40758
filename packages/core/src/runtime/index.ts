export * from "./dispatcher.ts"
