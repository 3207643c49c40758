#!/usr/bin/env bun
import { startApp } from './app.ts'
import { ConfigError } from './config-file.ts'
import { parseCliOptions, USAGE, UsageError } from './cli-options.ts'
import { StartupError } from './startup-error.ts'

async function main(): Promise<number> {
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
  if (!options.quiet) console.log(app.banner)
  const shutdown = async () => {
    await app.stop()
    process.exit(0)
  }
  process.once('SIGINT', shutdown)
  process.once('SIGTERM', shutdown)
  return -1
}

const code = await main()
if (code >= 0) process.exit(code)
