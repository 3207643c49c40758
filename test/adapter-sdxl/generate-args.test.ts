import { BadRequestError, type ImageRequest } from '@cy/core'
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdirSync, writeFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateArgs } from '../../packages/adapter-sdxl/src/engine/generate-args.ts'
import { parseImageSize } from '../../packages/adapter-sdxl/src/engine/image-size.ts'
import { extractLoraTags } from '../../packages/adapter-sdxl/src/engine/lora-tags.ts'
import { qualitySteps } from '../../packages/adapter-sdxl/src/engine/quality-steps.ts'
import { previewSteps, samplingSteps } from '../../packages/adapter-sdxl/src/engine/sampling-progress.ts'
import { parseSdxlOptions } from '../../packages/adapter-sdxl/src/sdxl-options.ts'

let root: string
let lorasDir: string
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'cy-sd-args-'))
  lorasDir = join(root, 'loras')
  mkdirSync(lorasDir)
  for (const name of ['detail.safetensors', 'style.gguf', 'notes.txt']) writeFileSync(join(lorasDir, name), '')
  writeFileSync(join(root, 'secret.safetensors'), '')
})
afterAll(() => rm(root, { recursive: true, force: true }))

const request = (fields: Partial<ImageRequest>): ImageRequest => ({ model: 'm', prompt: 'a cat', ...fields }) as ImageRequest

/** The 400 a call throws: its param and message. */
function refusal(work: () => unknown): { param: string | null | undefined; message: string } {
  try {
    work()
  } catch (error) {
    expect(error).toBeInstanceOf(BadRequestError)
    return { param: (error as BadRequestError).param, message: (error as Error).message }
  }
  throw new Error('no error was thrown')
}

describe('image request → generation', () => {
  const options = parseSdxlOptions({ lorasDir: 'loras', maxSize: 1024 }, { family: 'sd1' }, '/x')

  test('options: paths relative to the config folder; family sizes; distilled models default to few steps at cfg 1', () => {
    expect(options.lorasDir).toBe('/x/loras')
    expect(options.size).toEqual({ width: 512, height: 512 })
    expect(parseSdxlOptions({}, { family: 'sdxl' }).size).toEqual({ width: 1024, height: 1024 })
    expect(parseSdxlOptions({}, { family: 'sdxl', distilled: true })).toMatchObject({ steps: 4, cfgScale: 1 })
    expect(parseSdxlOptions({})).toMatchObject({ steps: 20, cfgScale: 7, parallel: 1, isolation: 'process', maxSize: 2048 })
    expect(() => parseSdxlOptions({ threads: 0 })).toThrow("sdxl option 'threads' must be an integer of at least 1")
    expect(() => parseSdxlOptions({ vaeTiling: 'yes' })).toThrow("sdxl option 'vaeTiling' must be true or false")
  })

  test('size: WxH and OpenAI names, auto is the default, rounded up to 64; above the limit or non-positive is a 400 naming size', () => {
    const fallback = { width: 512, height: 512 }
    expect(parseImageSize('auto', fallback, 2048)).toEqual(fallback)
    expect(parseImageSize(undefined, fallback, 2048)).toEqual(fallback)
    expect(parseImageSize('1536x1024', fallback, 2048)).toEqual({ width: 1536, height: 1024 })
    expect(parseImageSize('100x30', fallback, 2048)).toEqual({ width: 128, height: 64 })
    expect(refusal(() => parseImageSize('1792x1024', fallback, 1536))).toEqual({ param: 'size', message: "Size 1792x1024 is above this model's limit of 1536 pixels per side" })
    expect(refusal(() => parseImageSize('0x512', fallback, 1536)).param).toBe('size')
    expect(refusal(() => parseImageSize('big', fallback, 1536)).param).toBe('size')
  })

  test('quality → steps: low ½, medium/standard 1×, high/hd 1.5× the default; distilled models keep theirs; steps wins', () => {
    expect(['low', 'medium', 'standard', 'high', 'hd', 'auto'].map((q) => qualitySteps(q, 20))).toEqual([10, 20, 20, 30, 30, 20])
    expect(qualitySteps('high', 4)).toBe(4)
    expect(qualitySteps(undefined, 20)).toBe(20)
    expect(generateArgs(request({ quality: 'high', steps: 3 }), options).steps).toBe(3)
    expect(generateArgs(request({ quality: 'low' }), options).steps).toBe(10)
  })

  test("background 'transparent' is a 400 naming background; a seed is picked when absent and kept when given", () => {
    expect(refusal(() => generateArgs(request({ background: 'transparent' }), options)).param).toBe('background')
    expect(generateArgs(request({ seed: 7 }), options).seed).toBe(7)
    const picked = generateArgs(request({}), options).seed
    expect(Number.isSafeInteger(picked) && picked >= 0).toBe(true)
  })

  test('LoRAs from the request and from <lora:name:weight> tags, found only in the LoRA folder; revised prompt without the tags', () => {
    expect(extractLoraTags('a <lora:detail:0.5> cat <lora:style>')).toEqual({ prompt: 'a cat', loras: [{ name: 'detail', weight: 0.5 }, { name: 'style', weight: 1 }], invalid: [] })
    const args = generateArgs(request({ prompt: 'a <lora:detail:0.5> cat', loras: [{ name: 'style', weight: 0.25 }, { name: 'detail', weight: 0.25 }] }), parseSdxlOptions({ lorasDir: 'loras' }, {}, root))
    expect(args.prompt).toBe('a cat')
    expect(args.loras).toEqual([
      { path: join(lorasDir, 'detail.safetensors'), multiplier: 0.75 },
      { path: join(lorasDir, 'style.gguf'), multiplier: 0.25 },
    ])
  })

  test('a LoRA name that is a path, or unknown, or with no LoRA folder, is a 400 naming loras (the unknown one lists what there is)', () => {
    const real = parseSdxlOptions({ lorasDir }, {}, root)
    for (const name of ['../secret', '/etc/passwd', 'sub/detail', '..', 'a\\b']) {
      expect(refusal(() => generateArgs(request({ loras: [{ name, weight: 1 }] }), real))).toEqual({ param: 'loras', message: `Invalid LoRA name '${name}': give a name from the model's LoRA folder, not a path` })
    }
    expect(refusal(() => generateArgs(request({ prompt: 'x <lora:nope:1>' }), real))).toEqual({ param: 'loras', message: "Unknown LoRA 'nope'; this model has 'detail', 'style'" })
    expect(refusal(() => generateArgs(request({ loras: [{ name: 'detail', weight: 1 }] }), parseSdxlOptions({}))).param).toBe('loras')
    expect(refusal(() => generateArgs(request({ prompt: 'x <lora:detail:lots>' }), real)).param).toBe('prompt')
    expect(generateArgs(request({ loras: [{ name: 'detail.safetensors', weight: 1 }] }), real).loras).toEqual([{ path: join(lorasDir, 'detail.safetensors'), multiplier: 1 }])
  })

  test('sampling steps as the sampler reports them (img2img runs the tail of the schedule); previews spread over them', () => {
    expect(samplingSteps(20, 0.75, false)).toBe(20)
    expect(samplingSteps(20, 0.75, true)).toBe(16)
    expect(samplingSteps(2, 1, true)).toBe(2)
    expect(samplingSteps(4, 0.99, true)).toBe(4)
    expect([...previewSteps(20, 3)]).toEqual([5, 10, 15])
    expect([...previewSteps(2, 1)]).toEqual([1])
    expect(previewSteps(20, 0).size).toBe(0)
  })
})
