import { createSdxlAdapter } from '@cy/adapter-sdxl'
import { OutputChannel, type ImageRequest, type LoadedModel, type OutputChunk } from '@cy/core'
import { decodeImage, encodeImage, type RawImage } from '@cy/image'
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { runSdCli, type Pixels, type SdCliOptions } from '../fixtures/sd/reference-sd.ts'
import { tinySd15Fixture, tinySdxlFixture, type SdFixture } from '../fixtures/sd/sd-fixtures.ts'

/**
 * The adapter against stable-diffusion.cpp itself: for the same model, prompt, negative prompt, seed, steps,
 * cfg, sampler, scheduler and size, the adapter's images decode to exactly sd-cli's pixels (sd-cli's PNGs
 * carry a metadata chunk, so pixels are compared, never file bytes). Both run one thread; the fixture
 * models have no VAE, so the TAESD (given to both) decodes the images.
 */
const adapter = createSdxlAdapter({ quiet: true })
const TIMEOUT = 180_000

type ImageChunk = Extract<OutputChunk, { type: 'image' }>

/** Runs a request to its end and returns its images; a failed request fails the test with its error. */
async function generate(model: LoadedModel, request: Partial<ImageRequest>): Promise<ImageChunk[]> {
  const channel = new OutputChannel()
  const done = Promise.resolve(model.providers.image!({ model: 'tiny', size: '64x64', ...request } as ImageRequest, channel)).catch((error: unknown) => channel.fail(error))
  const chunks: OutputChunk[] = []
  for await (const chunk of channel) chunks.push(chunk)
  await done
  return chunks.filter((c) => c.type === 'image') as ImageChunk[]
}

/** The decoded RGB pixels of the adapter's images. */
const pixelsOf = (images: ImageChunk[]) => Promise.all(images.map(async (image) => (await decodeImage(image.data)).data))

/** The largest per-channel difference between two images' pixels (0: equal); -1 when their sizes differ. */
function maxDifference(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) return -1
  let max = 0
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!))
  return max
}

/** Expects the adapter's images to be sd-cli's, pixel for pixel. */
function expectSamePixels(ours: Uint8Array[], reference: Pixels[]): void {
  expect(ours.length).toBe(reference.length)
  ours.forEach((pixels, i) => {
    expect(reference[i]!.channels).toBe(3)
    expect(maxDifference(pixels, reference[i]!.data)).toBe(0)
  })
}

/**
 * The fixture's model, loaded once for the describe this is called in (as sd-engine.test.ts loads it: its own
 * process, one thread, the fixture's TAESD and LoRA folder) and unloaded after it.
 */
function modelPerDescribe(name: string, makeFixture: () => SdFixture): { fixture: SdFixture; model: LoadedModel } {
  const loaded = {} as { fixture: SdFixture; model: LoadedModel }
  beforeAll(async () => {
    const fixture = (loaded.fixture = makeFixture())
    loaded.model = await adapter.load({ name, adapter: 'sdxl', path: fixture.model, options: { taesd: fixture.taesd, lorasDir: fixture.loraDir, threads: 1, isolation: 'process' } })
  }, TIMEOUT)
  afterAll(() => loaded.model?.dispose())
  return loaded
}

/** The request fields both sides take, in the adapter's spelling. */
interface Common {
  prompt: string
  negative_prompt?: string
  seed: number
  steps: number
  cfg_scale: number
  sampler?: string
  scheduler?: string
}

/** sd-cli on the same model and TAESD, at 64x64 and one thread, with the same prompts, seed, steps, cfg, sampler and scheduler. */
const cli = (fixture: SdFixture, request: Common, more: Omit<SdCliOptions, 'model' | 'prompt'> = {}): Promise<Pixels[]> =>
  runSdCli({
    model: fixture.model,
    taesd: fixture.taesd,
    width: 64,
    height: 64,
    threads: 1,
    timeoutMs: TIMEOUT,
    prompt: request.prompt,
    negativePrompt: request.negative_prompt,
    seed: request.seed,
    steps: request.steps,
    cfgScale: request.cfg_scale,
    sampler: request.sampler,
    scheduler: request.scheduler,
    ...more,
  })

/** A deterministic 64x64 RGB pattern (gradients and a checkerboard): a source image for edits. */
function pattern(): RawImage {
  const data = new Uint8Array(64 * 64 * 3)
  for (let y = 0; y < 64; y++) {
    for (let x = 0; x < 64; x++) {
      const i = (y * 64 + x) * 3
      data[i] = x * 4
      data[i + 1] = y * 4
      data[i + 2] = ((x >> 3) + (y >> 3)) % 2 ? 220 : 30
    }
  }
  return { width: 64, height: 64, channels: 3, data }
}

/** The two forms of one mask over the right half: OpenAI's (RGBA, alpha 0 = edit) and sd-cli's (1 channel, 255 = repaint). */
function rightHalfMasks(): { openai: RawImage; cli: Pixels } {
  const rgba = new Uint8Array(64 * 64 * 4).fill(255)
  const gray = new Uint8Array(64 * 64)
  for (let i = 0; i < 64 * 64; i++) {
    if (i % 64 >= 32) {
      rgba[i * 4 + 3] = 0
      gray[i] = 255
    }
  }
  return { openai: { width: 64, height: 64, channels: 4, data: rgba }, cli: { width: 64, height: 64, channels: 1, data: gray } }
}

const upload = async (image: RawImage, name: string) => ({ name, type: 'image/png', bytes: (await encodeImage(image, 'png')).data })

describe('the adapter makes sd-cli\'s pixels exactly (tiny SD 1.5)', () => {
  const sd = modelPerDescribe('tiny-reference', () => tinySd15Fixture())
  const common: Common = { prompt: 'a red cat on a sofa', negative_prompt: 'blurry, dark', seed: 1234, steps: 3, cfg_scale: 5, sampler: 'euler', scheduler: 'karras' }

  test('txt2img: euler + karras, a negative prompt, cfg 5, 64x64, 3 steps', async () => {
    const ours = await generate(sd.model, common)
    expect(ours.map((i) => i.revisedPrompt)).toEqual([common.prompt])
    expectSamePixels(await pixelsOf(ours), await cli(sd.fixture, common))
  }, TIMEOUT)

  test('n: 2 is sd-cli\'s -b 2; image 1 is a single run at seed + 1', async () => {
    const ours = await pixelsOf(await generate(sd.model, { ...common, n: 2 }))
    expectSamePixels(ours, await cli(sd.fixture, common, { batchCount: 2 }))
    expectSamePixels([ours[1]!], await cli(sd.fixture, { ...common, seed: common.seed + 1 }))
    expect(maxDifference(ours[0]!, ours[1]!)).toBeGreaterThan(0)
  }, TIMEOUT)

  test('img2img: an uploaded PNG at strength 0.5 is sd-cli\'s -i with --strength 0.5', async () => {
    const source = pattern()
    const ours = await pixelsOf(await generate(sd.model, { ...common, image: [await upload(source, 'source.png')], strength: 0.5 } as Partial<ImageRequest>))
    expectSamePixels(ours, await cli(sd.fixture, common, { initImage: source, strength: 0.5 }))
  }, TIMEOUT)

  test('masked img2img on the base model: an OpenAI alpha mask is sd-cli\'s 255 = repaint --mask', async () => {
    const source = pattern()
    const masks = rightHalfMasks()
    const edit = { image: [await upload(source, 'source.png')], mask: await upload(masks.openai, 'mask.png'), strength: 0.8 }
    const ours = await pixelsOf(await generate(sd.model, { ...common, ...edit } as Partial<ImageRequest>))
    expectSamePixels(ours, await cli(sd.fixture, common, { initImage: source, mask: masks.cli, strength: 0.8 }))
  }, TIMEOUT)

  test('a LoRA at 0.8, by the loras field or by a <lora:name:0.8> tag, is sd-cli\'s tag with --lora-model-dir; the revised prompt has no tag', async () => {
    const name = sd.fixture.loraName!
    const reference = await cli(sd.fixture, common, { loraDir: sd.fixture.loraDir, loras: [{ name, weight: 0.8 }] })
    const byField = await generate(sd.model, { ...common, loras: [{ name, weight: 0.8 }] })
    const byTag = await generate(sd.model, { ...common, prompt: `${common.prompt} <lora:${name}:0.8>` })
    expectSamePixels(await pixelsOf(byField), reference)
    expectSamePixels(await pixelsOf(byTag), reference)
    expect(byTag.map((i) => i.revisedPrompt)).toEqual([common.prompt])
    // The LoRA does something: without it sd-cli makes other pixels.
    expect(maxDifference((await cli(sd.fixture, common))[0]!.data, reference[0]!.data)).toBeGreaterThan(0)
  }, TIMEOUT)
})

describe('the adapter makes sd-cli\'s pixels exactly (tiny SD 1.5 inpaint UNet)', () => {
  const sd = modelPerDescribe('tiny-inpaint-reference', () => tinySd15Fixture({ inChannels: 9 }))

  test('inpainting: an OpenAI alpha mask over the right half is sd-cli\'s 255 = repaint --mask', async () => {
    const source = pattern()
    const masks = rightHalfMasks()
    const request: Common = { prompt: 'a blue door', negative_prompt: 'text', seed: 77, steps: 3, cfg_scale: 5, sampler: 'euler', scheduler: 'karras' }
    const edit = { image: [await upload(source, 'source.png')], mask: await upload(masks.openai, 'mask.png') }
    const ours = await pixelsOf(await generate(sd.model, { ...request, ...edit } as Partial<ImageRequest>))
    // The adapter's default strength, 0.75 (sd-cli's too), said outright so the comparison does not rest on two defaults agreeing.
    expectSamePixels(ours, await cli(sd.fixture, request, { initImage: source, mask: masks.cli, strength: 0.75 }))
  }, TIMEOUT)
})

describe('the adapter makes sd-cli\'s pixels exactly (tiny SDXL)', () => {
  const sd = modelPerDescribe('tiny-sdxl-reference', () => tinySdxlFixture())

  test('txt2img 64x64, 2 steps, cfg 1 (the model\'s default sampler and scheduler on both sides)', async () => {
    const request: Common = { prompt: 'a lighthouse at dusk', seed: 5, steps: 2, cfg_scale: 1 }
    const ours = await generate(sd.model, request)
    expect(ours.map((i) => i.revisedPrompt)).toEqual([request.prompt])
    expectSamePixels(await pixelsOf(ours), await cli(sd.fixture, request))
  }, TIMEOUT)
})
