import { createSdxlAdapter } from '@cy/adapter-sdxl'
import { BadRequestError, CancelledError, OutputChannel, ProviderError, type ImageRequest, type LoadedModel, type OutputChunk, type OutputSink } from '@cy/core'
import { decodeImage, encodeImage } from '@cy/image'
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { tinySd15Fixture, type SdFixture } from '../fixtures/sd/sd-fixtures.ts'

// The real stable-diffusion.cpp (the cached build, or one made now) on the tiny SD 1.5 fixture: 64×64, 2 steps, one thread.
let fixture: SdFixture
const adapter = createSdxlAdapter({ quiet: true })

const load = (isolation: 'worker' | 'process') =>
  adapter.load({ name: `tiny-${isolation}`, adapter: 'sdxl', path: fixture.model, options: { taesd: fixture.taesd, lorasDir: fixture.loraDir, threads: 1, isolation } })

const ask = (fields: Partial<ImageRequest> = {}): ImageRequest => ({ model: 'tiny', prompt: 'a red cat', size: '64x64', steps: 2, seed: 42, ...fields }) as ImageRequest

/** Runs a request to its end: every chunk, or the error it ended with. */
async function run(model: LoadedModel, request: ImageRequest): Promise<{ chunks: OutputChunk[]; error?: unknown }> {
  const channel = new OutputChannel()
  const done = Promise.resolve(model.providers.image!(request, channel)).catch((error: unknown) => channel.fail(error))
  const chunks: OutputChunk[] = []
  try {
    for await (const chunk of channel) chunks.push(chunk)
  } catch (error) {
    await done
    return { chunks, error }
  }
  await done
  return { chunks }
}

const images = (chunks: OutputChunk[]) => chunks.filter((c) => c.type === 'image') as Extract<OutputChunk, { type: 'image' }>[]
const pixels = async (data: Uint8Array) => (await decodeImage(data)).data

/**
 * A sink that records every chunk pushed, even after the request is cancelled (a channel drops those): what
 * the engine still sent after the cancel is what shows whether it stopped within a step.
 */
function recordingSink(onChunk: (chunk: OutputChunk, sink: OutputSink & { cancel(): void }) => void) {
  const controller = new AbortController()
  const chunks: Array<{ chunk: OutputChunk; afterCancel: boolean }> = []
  const sink = {
    signal: controller.signal,
    push(chunk: OutputChunk) {
      chunks.push({ chunk, afterCancel: controller.signal.aborted })
      onChunk(chunk, sink)
      return true
    },
    ready: () => Promise.resolve(),
    end() {},
    fail() {},
    get closed() {
      return controller.signal.aborted
    },
    cancel: () => controller.abort(new CancelledError('The client left')),
  }
  return { sink, chunks }
}

beforeAll(async () => {
  fixture = await tinySd15Fixture()
}, 120_000)

for (const isolation of ['worker', 'process'] as const) {
  describe(`stable-diffusion.cpp through the adapter (isolation '${isolation}')`, () => {
    let model: LoadedModel
    beforeAll(async () => {
      model = await load(isolation)
    }, 1_200_000)
    afterAll(() => model?.dispose())

    test('a 64x64 image in 2 steps: sampling progress step by step, the image (PNG), revised prompt, usage', async () => {
      const { chunks, error } = await run(model, ask({ prompt: 'a red cat' }))
      expect(error).toBeUndefined()
      const progress = chunks.filter((c) => c.type === 'progress')
      // The silent phases are said too (the relay repeats them while they last, for the server's stall timeout).
      expect(progress.map((c) => [c.step, c.steps, c.stage, c.progress])).toEqual([
        [undefined, undefined, 'encoding', 0],
        [1, 2, 'sampling', 0.5],
        [2, 2, 'sampling', 1],
        [undefined, undefined, 'decoding', 1],
      ])
      const [image] = images(chunks)
      expect([image!.index, image!.mimeType, image!.revisedPrompt]).toEqual([0, 'image/png', 'a red cat'])
      expect(await decodeImage(image!.data)).toMatchObject({ width: 64, height: 64, channels: 3 })
      const usage = chunks.find((c) => c.type === 'usage')
      // "a red cat": three CLIP tokens; a 64x64 image: 16 patches of 16x16.
      expect(usage).toMatchObject({ promptTokens: 3, completionTokens: 16 })
      expect(model.metadata).toMatchObject({ isolation, family: 'sd1', variant: 'base', parallel: 1, threads: 1, previews: 'taesd' })
      expect(model.limits).toEqual({ maxConcurrency: 1 })
    }, 60_000)

    test('the same seed twice gives the same pixels, another seed others; n: 2 is one batch whose image 1 is seed + 1', async () => {
      const [a, b, other, batch, next] = await Promise.all([
        run(model, ask({ seed: 7 })),
        run(model, ask({ seed: 7 })),
        run(model, ask({ seed: 8 })),
        run(model, ask({ seed: 7, n: 2 })),
        run(model, ask({ seed: 8 })),
      ].map((p) => p.then(async (r) => Promise.all(images(r.chunks).map((i) => pixels(i.data))))))
      expect(a![0]).toEqual(b![0]!)
      expect(a![0]).not.toEqual(other![0]!)
      expect(batch!.length).toBe(2)
      expect(batch![0]).toEqual(a![0]!)
      expect(batch![1]).toEqual(next![0]!)
    }, 120_000)

    test('a cancel after the first step stops the sampler within a step; the next request runs', async () => {
      let cancelledAt = 0
      const { sink, chunks } = recordingSink((chunk, s) => {
        if (chunk.type === 'progress' && chunk.stage === 'sampling' && !cancelledAt) {
          cancelledAt = Date.now()
          s.cancel()
        }
      })
      const error = await Promise.resolve(model.providers.image!(ask({ steps: 30 }), sink)).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(CancelledError)
      // The progress report that saw the cancel may be in flight; no step after it runs.
      expect(chunks.filter((c) => c.afterCancel && c.chunk.type === 'progress' && c.chunk.stage === 'sampling').length).toBeLessThanOrEqual(1)
      expect(chunks.some((c) => c.chunk.type === 'image')).toBe(false)
      const after = await run(model, ask())
      expect([after.error, images(after.chunks).length]).toEqual([undefined, 1])
    }, 60_000)

    test('streamed previews: partial_images 1 sends one encoded partial image of image 0 before it', async () => {
      const { chunks } = await run(model, ask({ stream: true, partial_images: 1, output_format: 'webp' }))
      const partials = chunks.filter((c) => c.type === 'image-partial')
      expect(partials.map((c) => [c.index, c.partialIndex, c.mimeType])).toEqual([[0, 0, 'image/webp']])
      expect(await decodeImage(partials[0]!.data)).toMatchObject({ width: 64, height: 64 })
      expect(chunks.findIndex((c) => c.type === 'image-partial')).toBeLessThan(chunks.findIndex((c) => c.type === 'image'))
      expect(images(chunks)[0]!.mimeType).toBe('image/webp')
      // Counted per image of a batch.
      const batch = await run(model, ask({ stream: true, partial_images: 2, n: 2, steps: 4 }))
      expect(batch.chunks.filter((c) => c.type === 'image-partial').map((c) => [c.index, c.partialIndex])).toEqual([[0, 0], [0, 1], [1, 0], [1, 1]])
    }, 60_000)

    test('a LoRA from the folder changes the image (by tag or field, the same); an unknown one or a bad sampler is a 400', async () => {
      const name = fixture.loraName!
      const [plain, tagged, field] = await Promise.all(
        [ask(), ask({ prompt: `a red cat <lora:${name}:1>` }), ask({ loras: [{ name, weight: 1 }] })].map(async (r) => pixels(images((await run(model, r)).chunks)[0]!.data)),
      )
      expect(tagged).not.toEqual(plain!)
      expect(tagged).toEqual(field!)
      const unknown = await run(model, ask({ loras: [{ name: 'nope', weight: 1 }] }))
      expect(unknown.error).toBeInstanceOf(BadRequestError)
      expect((unknown.error as BadRequestError).param).toBe('loras')
      const sampler = await run(model, ask({ sampler: 'nope' }))
      expect([(sampler.error as BadRequestError).status, (sampler.error as BadRequestError).param]).toEqual([400, 'sampler'])
      expect((sampler.error as Error).message).toContain('euler_a')
      // A weight the library's number parser rejects would abort the engine: refused before it gets there.
      for (const [field, value] of [['prompt', 'a (cat:.) sitting'], ['negative_prompt', '(blur:..5)']] as const) {
        const weight = await run(model, ask({ [field]: value }))
        expect([(weight.error as BadRequestError).status, (weight.error as BadRequestError).param, (weight.error as BadRequestError).code]).toEqual([400, field, 'invalid_prompt_weight'])
      }
      expect(images((await run(model, ask())).chunks)).toHaveLength(1)
    }, 120_000)

    test('edits: img2img from an upload; a mask of another size, or bytes that are no image, are 400s naming the part', async () => {
      const source = images((await run(model, ask())).chunks)[0]!.data
      const upload = (bytes: Uint8Array) => ({ name: 'in.png', type: 'image/png', bytes })
      const edited = await run(model, ask({ image: [upload(source)], strength: 0.5 } as Partial<ImageRequest>))
      expect(edited.error).toBeUndefined()
      expect(await pixels(images(edited.chunks)[0]!.data)).not.toEqual(await pixels(source))
      const small = await encodeImage({ width: 32, height: 32, channels: 4, data: new Uint8Array(32 * 32 * 4) }, 'png')
      const badMask = await run(model, ask({ image: [upload(source)], mask: upload(small.data) } as Partial<ImageRequest>))
      expect([(badMask.error as BadRequestError).status, (badMask.error as BadRequestError).param]).toEqual([400, 'mask'])
      const notImage = await run(model, ask({ image: [upload(new Uint8Array([1, 2, 3]))] } as Partial<ImageRequest>))
      expect([(notImage.error as BadRequestError).status, (notImage.error as BadRequestError).param]).toEqual([400, 'image'])
    }, 120_000)

    test('unloading mid-generation ends the request with an error, not a crash', async () => {
      const doomed = await load(isolation)
      let started!: () => void
      const sampling = new Promise<void>((resolve) => (started = resolve))
      const { sink } = recordingSink((chunk) => chunk.type === 'progress' && chunk.stage === 'sampling' && started())
      const request = Promise.resolve(doomed.providers.image!(ask({ steps: 30 }), sink)).catch((e: unknown) => e)
      await sampling
      await doomed.dispose()
      const error = await request
      expect(error).toBeInstanceOf(ProviderError)
      expect((error as Error).message).toContain('unloaded')
      // The other model of this isolation still serves.
      expect((await run(model, ask())).error).toBeUndefined()
    }, 120_000)
  })
}

describe('edit variants, by what the checkpoint is', () => {
  const upload = (bytes: Uint8Array) => ({ name: 'in.png', type: 'image/png', bytes })
  /** An OpenAI mask for a 64x64 image: its left half transparent (to edit). */
  const halfMask = () => {
    const data = new Uint8Array(64 * 64 * 4).fill(255)
    for (let i = 0; i < 64 * 64; i++) if (i % 64 < 32) data[i * 4 + 3] = 0
    return encodeImage({ width: 64, height: 64, channels: 4, data }, 'png')
  }
  const loadVariant = (inChannels: 8 | 9) => {
    const variant = tinySd15Fixture({ inChannels })
    return adapter.load({ name: `tiny-${inChannels}`, adapter: 'sdxl', path: variant.model, options: { taesd: variant.taesd, threads: 1, isolation: 'worker' } })
  }

  test('an inpaint UNet gets the image and the mask: the mask changes what it makes', async () => {
    const model = await loadVariant(9)
    try {
      expect(model.metadata).toMatchObject({ variant: 'inpaint' })
      const source = images((await run(model, ask())).chunks)[0]!.data
      const edit = (fields: Partial<ImageRequest>) => run(model, ask({ image: [upload(source)], seed: 9, ...fields } as Partial<ImageRequest>))
      const [unmasked, masked] = [await edit({}), await edit({ mask: upload((await halfMask()).data) } as Partial<ImageRequest>)]
      expect([unmasked.error, masked.error]).toEqual([undefined, undefined])
      expect(await pixels(images(masked.chunks)[0]!.data)).not.toEqual(await pixels(images(unmasked.chunks)[0]!.data))
    } finally {
      await model.dispose()
    }
  }, 120_000)

  test('a base model with a mask is masked img2img: two seeds repaint the masked half differently and keep the rest alike', async () => {
    const model = await load('worker')
    try {
      const source = images((await run(model, ask())).chunks)[0]!.data
      const mask = upload((await halfMask()).data)
      const edit = async (seed: number) =>
        pixels(images((await run(model, ask({ image: [upload(source)], mask, seed, strength: 1 } as Partial<ImageRequest>))).chunks)[0]!.data)
      const [a, b] = [await edit(1), await edit(2)]
      // Latents outside the mask stay the source's (stable-diffusion.cpp blends them back every step); the
      // decoder mixes a few pixels across the edge, so compare the outer quarters.
      let [repainted, kept] = [0, 0]
      for (let i = 0; i < 64 * 64 * 3; i++) {
        const column = Math.floor(i / 3) % 64
        if (column < 16) repainted += Math.abs(a[i]! - b[i]!)
        else if (column >= 48) kept += Math.abs(a[i]! - b[i]!)
      }
      expect(kept * 2).toBeLessThan(repainted)
    } finally {
      await model.dispose()
    }
  }, 120_000)

  test('an instruct-pix2pix model edits by reference image; it takes no mask (a 400 naming mask)', async () => {
    const model = await loadVariant(8)
    try {
      expect(model.metadata).toMatchObject({ variant: 'pix2pix' })
      const source = images((await run(model, ask())).chunks)[0]!.data
      const edited = await run(model, ask({ image: [upload(source)], prompt: 'make it blue' } as Partial<ImageRequest>))
      expect([edited.error, images(edited.chunks).length]).toEqual([undefined, 1])
      const masked = await run(model, ask({ image: [upload(source)], mask: upload((await halfMask()).data) } as Partial<ImageRequest>))
      expect([(masked.error as BadRequestError).status, (masked.error as BadRequestError).param]).toEqual([400, 'mask'])
    } finally {
      await model.dispose()
    }
  }, 120_000)
})

describe('parallel contexts', () => {
  // stable-diffusion.cpp's progress and preview callbacks are process-wide: two contexts generating at once
  // must live in processes of their own, or each would call the other's (on the wrong thread).
  test('parallel 2: two processes generate at once, each image and its previews as when made alone', async () => {
    const options = { taesd: fixture.taesd, threads: 1 }
    const single = await adapter.load({ name: 'single', adapter: 'sdxl', path: fixture.model, options: { ...options, isolation: 'worker' } })
    const pair = await adapter.load({ name: 'pair', adapter: 'sdxl', path: fixture.model, options: { ...options, parallel: 2 } })
    try {
      expect(pair.limits).toEqual({ maxConcurrency: 2 })
      const request = (seed: number) => ask({ seed, steps: 6, partial_images: 2, stream: true })
      const outputs = async (r: { chunks: OutputChunk[] }) => Promise.all(r.chunks.filter((c) => c.type === 'image' || c.type === 'image-partial').map((c) => pixels((c as { data: Uint8Array }).data)))
      const together = await Promise.all([run(pair, request(11)), run(pair, request(12))])
      const alone = [await run(single, request(11)), await run(single, request(12))]
      for (const [i, result] of together.entries()) {
        expect(result.error).toBeUndefined()
        expect(result.chunks.filter((c) => c.type === 'image-partial')).toHaveLength(2)
        expect(await outputs(result)).toEqual(await outputs(alone[i]!))
      }
    } finally {
      await Promise.all([single.dispose(), pair.dispose()])
    }
  }, 180_000)

  test('parallel 2 in worker isolation is refused, saying why', async () => {
    const error = await adapter.load({ name: 'pair', adapter: 'sdxl', path: fixture.model, options: { parallel: 2, isolation: 'worker', threads: 1 } }).catch((e: unknown) => e)
    expect((error as Error).message).toContain("isolation 'process'")
  })
})
