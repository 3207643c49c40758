import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ConfigError, loadConfigFile } from '../../apps/server/src/config-file.ts'

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cy-config-'))
})
afterAll(() => rm(dir, { recursive: true, force: true }))

describe('config file', () => {
  test('YAML: models with paths relative to the file, adapter options, server settings', async () => {
    const path = join(dir, 'cy.yaml')
    await writeFile(
      path,
      ['server:', '  maxConcurrency: 2', '  modelsDir: ./weights', 'adapters:', '  llama: { threads: 4 }', 'models:', '  - name: qwen', '    adapter: llama', '    path: qwen.gguf', '    options: { contextSize: 2048 }'].join('\n'),
    )
    expect(await loadConfigFile(path)).toEqual({
      // configDir: relative paths inside options (an sdxl model's vae, lorasDir...) resolve against it.
      models: [{ name: 'qwen', adapter: 'llama', path: join(dir, 'qwen.gguf'), options: { contextSize: 2048 }, configDir: dir }],
      adapters: { llama: { threads: 4 } },
      aliases: {},
      server: { maxConcurrency: 2, modelsDir: join(dir, 'weights') },
    })
  })

  test('JSON works the same; absolute paths stay', async () => {
    const path = join(dir, 'cy.json')
    await writeFile(path, JSON.stringify({ models: [{ name: 'w', adapter: 'whisper', path: '/abs/w.bin' }] }))
    expect((await loadConfigFile(path)).models).toEqual([{ name: 'w', adapter: 'whisper', path: '/abs/w.bin' }])
  })

  test('aliases map more names to loaded models; a bad map is refused', async () => {
    const path = join(dir, 'aliases.yaml')
    await writeFile(path, 'aliases:\n  whisper-1: ggml-base\n')
    expect((await loadConfigFile(path)).aliases).toEqual({ 'whisper-1': 'ggml-base' })
    await writeFile(path, 'aliases: [whisper-1]\n')
    await expect(loadConfigFile(path)).rejects.toThrow('aliases')
  })

  test('clear errors: missing file, bad syntax, a model without name or adapter', async () => {
    await expect(loadConfigFile(join(dir, 'none.yaml'))).rejects.toThrow(ConfigError)
    const bad = join(dir, 'bad.json')
    await writeFile(bad, '{ nope')
    await expect(loadConfigFile(bad)).rejects.toThrow(/not valid JSON/)
    const incomplete = join(dir, 'incomplete.yaml')
    await writeFile(incomplete, 'models:\n  - name: x\n')
    await expect(loadConfigFile(incomplete)).rejects.toThrow("models[0] in")
  })
})
