import createLlamaAdapter from '@cy/adapter-llama'
import { afterAll, expect, test } from 'bun:test'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { encodeGguf, type MetadataValue } from '../fixtures/llama/gguf-writer.ts'
import { tinyLlama } from '../fixtures/llama/tiny-llama.ts'

const dir = await mkdtemp(join(tmpdir(), 'cy-llama-claims-'))
afterAll(() => rm(dir, { recursive: true, force: true }))
const adapter = createLlamaAdapter({ quiet: true })

async function claimOf(name: string, bytes: Uint8Array) {
  const path = join(dir, name)
  await writeFile(path, bytes)
  return adapter.canLoad(path, new Uint8Array(await readFile(path)).subarray(0, 64))
}
const gguf = (metadata: Record<string, MetadataValue>) => encodeGguf(metadata, [{ name: 'w', dims: [4], data: new Float32Array(4) }])

// The models folder offers each file to the adapters in turn and the first claim wins: llama must leave
// stable-diffusion.cpp's GGUF checkpoints (no architecture, or an image one) to the sdxl adapter.
test('claims a language model GGUF, leaves image-model GGUFs and other files alone', async () => {
  expect((await claimOf('tiny.gguf', tinyLlama())).claim).toBe(true)
  const noArchitecture = await claimOf('sd-checkpoint.gguf', gguf({ 'general.name': { type: 'string', value: 'sd' } }))
  expect(noArchitecture).toMatchObject({ claim: false, reason: expect.stringContaining('general.architecture') })
  const flux = await claimOf('flux.gguf', gguf({ 'general.architecture': { type: 'string', value: 'flux' } }))
  expect(flux).toMatchObject({ claim: false, reason: expect.stringContaining('image model') })
  expect((await claimOf('truncated.gguf', tinyLlama().subarray(0, 40))).claim).toBe(false)
  expect((await claimOf('model.bin', tinyLlama())).claim).toBe(false)
})
