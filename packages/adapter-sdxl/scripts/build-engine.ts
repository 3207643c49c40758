// bun run engines:build sd [--cuda|--metal|--vulkan|--cpu] [--src DIR] [--portable]
import { detectBackend, type Backend } from '@cy/native'
import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { buildEngine } from '../src/library/engine-build.ts'

const { values, positionals } = parseArgs({
  args: Bun.argv.slice(2),
  options: { cuda: { type: 'boolean' }, metal: { type: 'boolean' }, vulkan: { type: 'boolean' }, cpu: { type: 'boolean' }, src: { type: 'string' }, portable: { type: 'boolean' } },
  allowPositionals: true,
})
if (positionals.length > 0 && !['sd', 'sdxl'].includes(positionals[0]!)) throw new Error(`This package builds sd, not ${positionals[0]}`)
const backend: Backend = values.cuda ? 'cuda' : values.metal ? 'metal' : values.vulkan ? 'vulkan' : values.cpu ? 'cpu' : detectBackend()
try {
  console.log(await buildEngine({ backend, portable: values.portable === true, ...(values.src ? { source: resolve(values.src) } : {}) }))
} catch (error) {
  console.error(`[sdxl] ${(error as Error).message}`)
  process.exit(1)
}
