#!/usr/bin/env bun
import { startApp } from './app.ts'
import { pullCommand } from './catalog/pull-command.ts'
import { ConfigError } from './config-file.ts'
import { DEFAULT_DRAIN_TIMEOUT_MS, DEFAULT_SHUTDOWN_TIMEOUT_MS, parseCliOptions, USAGE, UsageError } from './cli-options.ts'
import { StartupError } from './startup-error.ts'

async function main(): Promise<number> {
  if (Bun.argv[2] === 'pull') return pullCommand(Bun.argv.slice(3), process.env)
  let options
  try {
    options = parseCliOptions(Bun.argv.slice(2), process.env)
  } catch (error) {
    if (!(error instanceof UsageError)) throw error
    console.error(`${error.message}\n\n${USAGE}`)
    return 2
  }
  if (!options) {
    console.log(USAGE)
    return 0
  }
  let app
  try {
    app = await startApp(options)
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message)
      return 2
    }
    if (error instanceof StartupError) {
      console.error(error.message)
      return 1
    }
    throw error
  }
  const drainMs = options.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS
  const deadline = options.shutdownTimeoutMs ?? DEFAULT_SHUTDOWN_TIMEOUT_MS
  let stopping = false
  const shutdown = (signal: string) => {
    // A second signal, or an engine that will not let go (stuck in native code), ends the process anyway.
    if (stopping) {
      console.error(`${signal} again: exiting now`)
      process.exit(1)
    }
    stopping = true
    console.log(`stopping (${signal}): requests in flight have ${drainMs} ms to finish; a second signal exits at once`)
    // The drain ends what is left at its limit; then freeing the engines gets `deadline`, and is not waited for past it.
    void app
      .drain(drainMs)
      .then(() => {
        setTimeout(() => {
          console.error(`shutdown took longer than ${deadline} ms after the drain: exiting without waiting for the engines`)
          process.exit(1)
        }, deadline)
        return app.stop()
      })
      .then(
        () => process.exit(0),
        (error: unknown) => {
          console.error(`shutdown failed: ${(error as Error).message}`)
          process.exit(1)
        },
      )
  }
  process.on('SIGINT', () => shutdown('SIGINT'))
  process.on('SIGTERM', () => shutdown('SIGTERM'))
  // The banner last: whoever waits for it may signal at once.
  if (!options.quiet) console.log(app.banner)
  return -1
}

const code = await main()
if (code >= 0) process.exit(code)
