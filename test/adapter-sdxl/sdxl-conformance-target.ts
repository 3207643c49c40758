import { createSdxlAdapter } from '@cy/adapter-sdxl'
import type { Isolation } from '@cy/core'
import type { ConformanceTarget } from '../conformance/adapter-conformance.ts'
import { tinySd15Fixture, type SdFixture } from '../fixtures/sd/sd-fixtures.ts'

let fixture: SdFixture | undefined
/** The tiny SD 1.5 checkpoint with its TAESD and LoRA folder, generated on first use (once per generator version). */
const sd15 = () => (fixture ??= tinySd15Fixture())

/** The real stable-diffusion.cpp on the tiny SD 1.5 fixture (64×64, one thread), in the given isolation. */
export const sdxlConformanceTarget = (isolation: Isolation = 'process'): ConformanceTarget => ({
  name: `sdxl (${isolation})`,
  createAdapter: () => createSdxlAdapter({ quiet: true }),
  extension: '.gguf',
  capabilities: ['image'],
  // The fixture lives in its shared cache folder, not in the suite's `dir`: it is reused across runs.
  modelFile: async () => sd15().model,
  get options() {
    return { taesd: sd15().taesd, lorasDir: sd15().loraDir, threads: 1, isolation }
  },
  // Quick: 2 steps. Long: 20 steps (~5 s here) keep the sampler busy for a few seconds, so there is time to watch and cancel.
  image: { quick: { size: '64x64', steps: 2 }, long: { size: '64x64', steps: 20 } },
  notApplicable: {
    'engine-error-recovery':
      'stable-diffusion.cpp runs on the model’s Worker (in its engine process, or in this one), out of this test’s reach; sd-engine.test.ts covers a request that fails there (a bad sampler, an unloaded model) and the next one serving',
  },
})
