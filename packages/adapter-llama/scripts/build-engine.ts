// bun run engines:build mtmd [--llama-dir DIR] [--src DIR]: builds libmtmd (vision) for the libllama in
// DIR (default: the one the adapter resolves) and prints its folder on the last line. libllama itself is
// prebuilt (the @node-llama-cpp packages); only its multimodal library is compiled here.
// bun run engines:build llama-training [--src DIR]: builds llama.cpp's libraries for this CPU, which the
// training engine then uses (faster than the prebuilt ones on the CPU: bench:training).
import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { buildMtmd } from '../src/library/build-mtmd.ts'
import { resolveLlamaLibrary } from '../src/library/resolve-library.ts'
import { buildTrainingLibrary } from '../src/library/training-library.ts'

const { values, positionals } = parseArgs({
  args: Bun.argv.slice(2),
  options: { 'llama-dir': { type: 'string' }, src: { type: 'string' } },
  allowPositionals: true,
})
// `mtmd` is the default; `llama` and `libmtmd` are the root script's names for it.
const target = positionals[0] === 'llama-training' ? 'llama-training' : 'mtmd'
if (positionals.length > 0 && !['mtmd', 'libmtmd', 'llama', 'llama-training'].includes(positionals[0]!)) {
  console.error(`This package builds mtmd or llama-training, not ${positionals[0]}`)
  process.exit(2)
}
const log = (line: string) => console.error(`[${target}] ${line}`)
try {
  if (values.src) process.env.CY_LLAMA_SRC = resolve(values.src)
  if (target === 'llama-training') console.log(await buildTrainingLibrary(log))
  else console.log(await buildMtmd(values['llama-dir'] ? resolve(values['llama-dir']) : (await resolveLlamaLibrary(undefined)).dir, log))
} catch (error) {
  log((error as Error).message)
  process.exit(1)
}
