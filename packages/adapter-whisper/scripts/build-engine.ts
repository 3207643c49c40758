// bun run engines:build whisper [--cuda|--metal|--vulkan|--cpu] [--src DIR]
import { parseArgs } from 'node:util'
import { buildEngine, detectBackend, type Backend } from '../src/library/engine-build.ts'

const { values, positionals } = parseArgs({
  args: Bun.argv.slice(2),
  options: { cuda: { type: 'boolean' }, metal: { type: 'boolean' }, vulkan: { type: 'boolean' }, cpu: { type: 'boolean' }, src: { type: 'string' } },
  allowPositionals: true,
})
if (positionals.length > 0 && positionals[0] !== 'whisper') throw new Error(`This package builds whisper, not ${positionals[0]}`)
const backend: Backend = values.cuda ? 'cuda' : values.metal ? 'metal' : values.vulkan ? 'vulkan' : values.cpu ? 'cpu' : detectBackend()
console.log(await buildEngine({ backend, ...(values.src ? { source: values.src } : {}) }))
