// bun run engines:build <engine> [flags]: runs the `engines:build` script of the adapter package that
// builds that engine (`sd` → packages/adapter-sdxl, `whisper` → packages/adapter-whisper, `mtmd` and `llama-training` → packages/adapter-llama), passing the flags on.
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'

const ALIASES: Record<string, string> = { sd: 'sdxl', 'stable-diffusion': 'sdxl', 'whisper.cpp': 'whisper', mtmd: 'llama', libmtmd: 'llama', 'llama-training': 'llama' }
const packages = join(import.meta.dir, '..', 'packages')
const buildable = readdirSync(packages).filter((name) => {
  const manifest = join(packages, name, 'package.json')
  return existsSync(manifest) && JSON.parse(readFileSync(manifest, 'utf8')).scripts?.['engines:build']
})
const [engine, ...flags] = Bun.argv.slice(2)
const folder = engine && buildable.find((name) => name === `adapter-${ALIASES[engine] ?? engine}`)
if (!folder) {
  console.error(`usage: bun run engines:build <${buildable.map((name) => name.replace(/^adapter-/, '')).join('|')}|mtmd|llama-training> [--cuda|--metal|--vulkan|--cpu (whisper, sdxl)] [--src DIR]`)
  process.exit(2)
}
// The package's script runs in its own folder: a relative --src is made absolute here, where it was meant.
const passed = flags.map((flag, i) => (flags[i - 1] === '--src' ? resolve(flag) : flag.startsWith('--src=') ? `--src=${resolve(flag.slice(6))}` : flag))
const child = Bun.spawn([process.execPath, 'run', 'engines:build', engine!, ...passed], { cwd: join(packages, folder), stdio: ['inherit', 'inherit', 'inherit'] })
process.exit(await child.exited)
