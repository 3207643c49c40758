export * from "./output-channel.ts"
export * from "./intercepted-sink.ts"
