import { createLlamaAdapter } from '@cy/adapter-llama'
import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { DiscoveredAdapter } from '../../apps/server/src/adapter-discovery.ts'
import { loadConfigFile } from '../../apps/server/src/config-file.ts'
import { scanModelsFolder } from '../../apps/server/src/models-folder.ts'
import { encodeGguf, type MetadataValue } from '../fixtures/llama/gguf-writer.ts'

/**
 * The models folder as users fill it: models beside their multimodal projectors (flat, or a subfolder per
 * model), and split GGUFs. The real llama adapter claims the files (it only reads their GGUF headers here).
 */

const adapters: DiscoveredAdapter[] = [{ adapter: createLlamaAdapter({ quiet: true }), packageName: '@cy/adapter-llama', version: '0', directory: '.' }]
let dir: string

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cy-models-folder-'))
})
afterEach(() => rm(dir, { recursive: true, force: true }))

const string = (value: string): MetadataValue => ({ type: 'string', value })

/** A GGUF with only the metadata the scan reads: a language model (`llama`) or a projector (`clip`). */
async function gguf(path: string, architecture: 'llama' | 'clip', extra: Record<string, MetadataValue> = {}): Promise<string> {
  const full = join(dir, path)
  await mkdir(join(full, '..'), { recursive: true })
  await writeFile(full, encodeGguf({ 'general.architecture': string(architecture), ...extra }, []))
  return full
}

const scan = () => scanModelsFolder(dir, adapters)

describe('multimodal projectors', () => {
  test('a projector beside the only model is that model’s mmproj, not a model', async () => {
    const model = await gguf('Qwen2.5-VL-3B-Instruct-Q4_K_M.gguf', 'llama')
    const projector = await gguf('mmproj-model-f16.gguf', 'clip')
    const { models, unclaimed } = await scan()
    expect(models).toEqual([{ name: 'Qwen2.5-VL-3B-Instruct-Q4_K_M', adapter: 'llama', path: model, options: { mmproj: projector } }])
    expect(unclaimed).toEqual([])
  })

  test('among several models, the projector goes to the ones it names (every quant of that model)', async () => {
    const q4 = await gguf('gemma-3-4b-it-Q4_K_M.gguf', 'llama')
    const q8 = await gguf('gemma-3-4b-it-Q8_0.gguf', 'llama')
    const other = await gguf('qwen2.5-0.5b-instruct-q4_k_m.gguf', 'llama')
    const projector = await gguf('mmproj-gemma-3-4b-it-f16.gguf', 'clip')
    const suffixed = await gguf('SmolVLM-256M-Instruct-mmproj-f16.gguf', 'clip')
    const smol = await gguf('SmolVLM-256M-Instruct-Q8_0.gguf', 'llama')
    const { models, unclaimed } = await scan()
    expect(models).toEqual([
      { name: 'SmolVLM-256M-Instruct-Q8_0', adapter: 'llama', path: smol, options: { mmproj: suffixed } },
      { name: 'gemma-3-4b-it-Q4_K_M', adapter: 'llama', path: q4, options: { mmproj: projector } },
      { name: 'gemma-3-4b-it-Q8_0', adapter: 'llama', path: q8, options: { mmproj: projector } },
      { name: 'qwen2.5-0.5b-instruct-q4_k_m', adapter: 'llama', path: other },
    ])
    expect(unclaimed).toEqual([])
  })

  test('a subfolder holding a model and its projector, as LM Studio and llama-server -hf lay them out', async () => {
    const model = await gguf('qwen-vl/Qwen2.5-VL-3B-Instruct-Q4_K_M.gguf', 'llama')
    const projector = await gguf('qwen-vl/mmproj-Qwen2.5-VL-3B-Instruct-f16.gguf', 'clip')
    const text = await gguf('tiny.gguf', 'llama')
    const { models, unclaimed } = await scan()
    expect(models).toEqual([
      { name: 'tiny', adapter: 'llama', path: text },
      { name: 'Qwen2.5-VL-3B-Instruct-Q4_K_M', adapter: 'llama', path: model, options: { mmproj: projector } },
    ])
    expect(unclaimed).toEqual([])
  })

  test('a projector with no model, or beside several it does not name, is unclaimed with why', async () => {
    await gguf('alone/mmproj-f16.gguf', 'clip')
    await gguf('mixed/a-Q4_K_M.gguf', 'llama')
    await gguf('mixed/b-Q4_K_M.gguf', 'llama')
    await gguf('mixed/mmproj-model-f16.gguf', 'clip')
    const { models, unclaimed } = await scan()
    expect(models.map((model) => [model.name, model.options])).toEqual([
      ['a-Q4_K_M', undefined],
      ['b-Q4_K_M', undefined],
    ])
    expect(unclaimed).toEqual([
      'alone/mmproj-f16.gguf (a multimodal projector with no model beside it)',
      expect.stringMatching(/^mixed\/mmproj-model-f16\.gguf \(a multimodal projector beside several models \(a-Q4_K_M, b-Q4_K_M\) and named like none of them; .*mmproj:/),
    ])
  })

  test('a second projector for a model that has one is unclaimed, naming the one it uses', async () => {
    await gguf('m-Q4_0.gguf', 'llama')
    const bf16 = await gguf('mmproj-bf16.gguf', 'clip')
    await gguf('mmproj-f16.gguf', 'clip')
    const { models, unclaimed } = await scan()
    expect(models[0]!.options).toEqual({ mmproj: bf16 })
    expect(unclaimed).toEqual(["mmproj-f16.gguf (another projector for the same model: 'm-Q4_0' uses mmproj-bf16.gguf)"])
  })

  test('mmproj: in the config file is a path relative to the file, beside path or in options', async () => {
    const configPath = join(dir, 'conf', 'cy.yaml')
    await mkdir(join(dir, 'conf'), { recursive: true })
    await writeFile(
      configPath,
      ['models:', '  - { name: a, adapter: llama, path: a.gguf, mmproj: vision/mmproj-a.gguf }', '  - { name: b, adapter: llama, path: b.gguf, options: { mmproj: /abs/mmproj-b.gguf, contextSize: 512 } }'].join('\n'),
    )
    const config = await loadConfigFile(configPath)
    expect(config.models[0]!.options).toEqual({ mmproj: join(dir, 'conf', 'vision', 'mmproj-a.gguf') })
    expect(config.models[1]!.options).toEqual({ mmproj: '/abs/mmproj-b.gguf', contextSize: 512 })
    await writeFile(configPath, 'models:\n  - { name: a, adapter: llama, path: a.gguf, mmproj: 5 }\n')
    await expect(loadConfigFile(configPath)).rejects.toThrow(/models\[0\]\.mmproj .* must be the path of a projector GGUF/)
  })
})

describe('split GGUFs', () => {
  test('the parts of a split are one model named without the part numbers, loaded from its first part', async () => {
    const first = await gguf('big-model-Q4_K_M-00001-of-00003.gguf', 'llama', { 'split.count': { type: 'u32', value: 3 } })
    await gguf('big-model-Q4_K_M-00002-of-00003.gguf', 'llama')
    await gguf('big-model-Q4_K_M-00003-of-00003.gguf', 'llama')
    const { models, unclaimed } = await scan()
    expect(models).toEqual([{ name: 'big-model-Q4_K_M', adapter: 'llama', path: first }])
    expect(unclaimed).toEqual([])
  })

  test('a split missing a part is not offered, and the banner says which part', async () => {
    await gguf('big-00001-of-00003.gguf', 'llama')
    await gguf('big-00003-of-00003.gguf', 'llama')
    await gguf('orphan-00002-of-00002.gguf', 'llama')
    const { models, unclaimed } = await scan()
    expect(models).toEqual([])
    expect(unclaimed).toEqual([
      'big-00001-of-00003.gguf (a split GGUF missing big-00002-of-00003.gguf; not offered until every part is there)',
      'orphan-00002-of-00002.gguf (part 2 of a split GGUF whose first part is missing)',
    ])
  })

  test('a split model pairs with its projector like any other', async () => {
    const first = await gguf('vl/vl-7b-Q8_0-00001-of-00002.gguf', 'llama')
    await gguf('vl/vl-7b-Q8_0-00002-of-00002.gguf', 'llama')
    const projector = await gguf('vl/mmproj-vl-7b-f16.gguf', 'clip')
    const { models, unclaimed } = await scan()
    expect(models).toEqual([{ name: 'vl-7b-Q8_0', adapter: 'llama', path: first, options: { mmproj: projector } }])
    expect(unclaimed).toEqual([])
  })
})
