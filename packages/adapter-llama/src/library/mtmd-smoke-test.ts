// Run in a child process on a libmtmd folder (see resolve-mtmd.ts): a library that does not load (a
// missing libllama, another ABI) fails here, not in the engine. Prints its version as JSON.
import { dlopen } from 'bun:ffi'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { MTMD_FILE } from '../native/mtmd-symbols.ts'

const dir = process.argv[2]
if (!dir) throw new Error('usage: mtmd-smoke-test.ts <libmtmd folder>')
const lib = dlopen(join(dir, MTMD_FILE), { mtmd_default_marker: { args: [], returns: 'cstring' } })
const marker = String(lib.symbols.mtmd_default_marker())
const stamp = join(dir, 'mtmd-build.json')
// A libmtmd built elsewhere has no stamp: its version cannot be read from it, only trusted.
const version = existsSync(stamp) ? (JSON.parse(readFileSync(stamp, 'utf8')) as { version: string }).version : 'unknown'
console.log(JSON.stringify({ version, marker }))
