import { beforeAll, describe, expect, test } from 'bun:test'
import { createHash } from 'node:crypto'
import { readFileSync, statSync } from 'node:fs'
import { hashGguf } from '../fixtures/sd/gguf-model.ts'
import { runSdCli, runSdCliLogged, type RgbImage } from '../fixtures/sd/reference-sd.ts'
import { tinySd15Fixture, tinySdxlFixture, type SdFixture } from '../fixtures/sd/sd-fixtures.ts'
import { tinySd15Gguf } from '../fixtures/sd/tiny-sd.ts'
import { tinyTaesdGguf } from '../fixtures/sd/tiny-taesd.ts'

// The tiny Stable Diffusion fixtures on the real stable-diffusion.cpp (its sd-cli): they load, run and make
// textured, reproducible images, so the adapter's tests can compare with them.

function pixelStd(image: RgbImage): number {
  let sum = 0
  let squares = 0
  for (const value of image.data) {
    sum += value
    squares += value * value
  }
  const mean = sum / image.data.length
  return Math.sqrt(squares / image.data.length - mean * mean)
}

function expectTextured(image: RgbImage): void {
  expect([image.width, image.height, image.channels]).toEqual([64, 64, 3])
  expect(image.data.length).toBe(64 * 64 * 3)
  // Random weights give noisy, colourful images; a NaN or a dead network gives one flat colour.
  expect(pixelStd(image)).toBeGreaterThan(20)
}

/** Per test: generating a model the first time takes a few seconds, each SD 1.5 image ~2 s (SDXL ~10 s). */
const LIMIT = 60_000

const SMALL = { prompt: 'a lighthouse at dusk', width: 64, height: 64, steps: 2, seed: 42 } as const

describe('the tiny SD fixtures', () => {
  test('the generators are deterministic: the same bytes twice, others for another seed', () => {
    const sd15 = hashGguf(tinySd15Gguf())
    expect(hashGguf(tinySd15Gguf())).toBe(sd15)
    expect(createHash('sha256').update(readFileSync(tinySd15Fixture().model)).digest('hex')).toBe(sd15)
    expect(hashGguf(tinyTaesdGguf({ seed: 1 }))).toBe(hashGguf(tinyTaesdGguf()))
    expect(hashGguf(tinyTaesdGguf({ seed: 2 }))).not.toBe(hashGguf(tinyTaesdGguf()))
  }, LIMIT)

  test('a second call reuses the files', () => {
    const first = tinySd15Fixture()
    const written = statSync(first.model).mtimeMs
    const second = tinySd15Fixture()
    expect(second).toEqual(first)
    expect(statSync(second.model).mtimeMs).toBe(written)
  }, LIMIT)
})

describe('sd-cli on the SD 1.5 fixture', () => {
  let fixture: SdFixture
  let base: RgbImage
  let log: string

  beforeAll(async () => {
    fixture = tinySd15Fixture()
    const run = await runSdCliLogged({ model: fixture.model, taesd: fixture.taesd, ...SMALL })
    base = run.images[0]!
    log = run.log
  }, LIMIT)

  test('loads it as SD 1.x and makes a textured 64×64 image', () => {
    expect(log).toContain('Version: SD 1.x')
    expect(log).not.toContain('was not loaded')
    expectTextured(base)
  })

  test('the same seed gives the same pixels, seed + 1 others (a batch of 2 is seed, seed + 1)', async () => {
    const [again, next] = await runSdCli({ model: fixture.model, taesd: fixture.taesd, ...SMALL, batchCount: 2 })
    expect(Buffer.from(again!.data).equals(Buffer.from(base.data))).toBe(true)
    expectTextured(next!)
    expect(Buffer.from(next!.data).equals(Buffer.from(base.data))).toBe(false)
  }, LIMIT)

  test('the LoRA applies to every attention projection and changes the image', async () => {
    const run = await runSdCliLogged({
      model: fixture.model,
      taesd: fixture.taesd,
      ...SMALL,
      loraDir: fixture.loraDir,
      loras: [{ name: fixture.loraName!, weight: 1 }],
    })
    expect(run.log).toContain('(384 / 384) LoRA tensors have been applied')
    expectTextured(run.images[0]!)
    expect(Buffer.from(run.images[0]!.data).equals(Buffer.from(base.data))).toBe(false)
  }, LIMIT)

  test('the inpaint variant (UNet in_channels 9) runs with an init image and a mask', async () => {
    const inpaint = tinySd15Fixture({ inChannels: 9 })
    const mask = { width: 64, height: 64, channels: 1, data: new Uint8Array(64 * 64).map((_, i) => (i % 64 < 32 ? 255 : 0)) }
    const run = await runSdCliLogged({ model: inpaint.model, taesd: inpaint.taesd, ...SMALL, initImage: base, mask, strength: 0.8 })
    expect(run.log).toContain('Version: SD 1.x Inpaint')
    expectTextured(run.images[0]!)
  }, LIMIT)

  test('the Instruct-Pix2Pix variant (UNet in_channels 8) runs with a reference image', async () => {
    const pix2pix = tinySd15Fixture({ inChannels: 8 })
    const run = await runSdCliLogged({ model: pix2pix.model, taesd: pix2pix.taesd, ...SMALL, refImage: base })
    expect(run.log).toContain('Version: Instruct-Pix2Pix')
    expectTextured(run.images[0]!)
  }, LIMIT)
})

describe('sd-cli on the SDXL fixture', () => {
  test('loads it as SDXL and makes a textured 64×64 image', async () => {
    const fixture = tinySdxlFixture()
    // cfg 1 skips the unconditioned pass: the full-size bigG text encoder is most of the time.
    const run = await runSdCliLogged({ model: fixture.model, taesd: fixture.taesd, ...SMALL, cfgScale: 1 })
    expect(run.log).toContain('Version: SDXL')
    expectTextured(run.images[0]!)
  }, 2 * LIMIT)
})
