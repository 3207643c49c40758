/**
 * bench/sd: seconds per image, the adapter against stable-diffusion.cpp's own sd-cli on the same model, size,
 * steps, seed and threads, in one run, rounds alternating. sd-cli's figure is its own `generate_image
 * completed in` (weights loaded before it, with --eager-load, as the adapter loads them at model load);
 * the adapter's is the whole request as a client of the provider sees it (the engine process, the Worker,
 * PNG encoding). Usage: bun bench/sd/index.ts [--size 128] [--steps 4] [--threads 1] [--rounds 3]
 *   [--isolation process|worker] [--model PATH --taesd PATH]
 */
import createSdxlAdapter from '@cy/adapter-sdxl'
import { OutputChannel } from '@cy/core'
import { parseArgs } from 'node:util'
import { findSdCli, runSdCliLogged } from '../../test/fixtures/sd/reference-sd.ts'
import { tinySd15Fixture } from '../../test/fixtures/sd/sd-fixtures.ts'

const { values } = parseArgs({
  args: Bun.argv.slice(2),
  options: {
    size: { type: 'string' },
    steps: { type: 'string' },
    threads: { type: 'string' },
    rounds: { type: 'string' },
    isolation: { type: 'string' },
    model: { type: 'string' },
    taesd: { type: 'string' },
  },
})
const size = Number(values.size ?? 128)
const steps = Number(values.steps ?? 4)
const threads = Number(values.threads ?? 1)
const rounds = Number(values.rounds ?? 3)
const isolation = values.isolation ?? 'process'
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const fixture = values.model ? undefined : tinySd15Fixture()
const modelPath = values.model ?? fixture!.model
const taesd = values.taesd ?? fixture?.taesd
const prompt = 'a lighthouse on a cliff at dawn'
const seed = 42

const model = await createSdxlAdapter({ quiet: true }).load({
  name: 'bench',
  adapter: 'sdxl',
  path: modelPath,
  options: { threads, isolation, ...(taesd ? { taesd } : {}) },
})
console.log(`bench/sd: ${size}x${size}, ${steps} steps, ${threads} threads, ${rounds} rounds, isolation ${isolation}; model ${modelPath}; sd-cli ${findSdCli()}`)

async function adapterSeconds(): Promise<number> {
  const channel = new OutputChannel()
  const started = performance.now()
  const done = model.providers.image!({ model: 'bench', prompt, size: `${size}x${size}`, steps, cfg_scale: 7, seed }, channel)
  let images = 0
  for await (const chunk of channel) if (chunk.type === 'image') images++
  await done
  if (images !== 1) throw new Error(`the adapter made ${images} images`)
  return (performance.now() - started) / 1000
}

async function cliSeconds(): Promise<number> {
  const { log } = await runSdCliLogged({ model: modelPath, taesd, prompt, seed, steps, cfgScale: 7, width: size, height: size, threads, extraArgs: ['--eager-load'] })
  const seconds = Number(/generate_image completed in ([0-9.]+)s/.exec(log)?.[1])
  if (!Number.isFinite(seconds)) throw new Error(`sd-cli printed no generate_image time:\n${log.slice(-2000)}`)
  return seconds
}

const adapter: number[] = []
const reference: number[] = []
await adapterSeconds() // warm-up: the first request pays for the Worker's first graph allocation
for (let round = 0; round < rounds; round++) {
  adapter.push(await adapterSeconds())
  reference.push(await cliSeconds())
  console.log(`  round ${round + 1}: adapter ${adapter.at(-1)!.toFixed(3)} s, sd-cli ${reference.at(-1)!.toFixed(3)} s`)
}
await model.dispose()
const a = median(adapter)
const r = median(reference)
console.log(`seconds per image (median): adapter ${a.toFixed(3)}, sd-cli ${r.toFixed(3)}, ratio ${(a / r).toFixed(3)} (aim ≤ 1.03)`)
