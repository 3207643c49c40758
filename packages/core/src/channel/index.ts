export * from "./output-channel.ts"
