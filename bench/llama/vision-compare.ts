/**
 * Vision chat, cy against llama.cpp's own `llama-server --mmproj`, side by side on the same model, projector,
 * images, threads and one slot: the latency of a greedy 8-token answer about an image, (a) a different image
 * each request (encoded every time) and (b) the same image again (its embeddings reused from the cache).
 * Rounds alternate between the two servers; medians. Usage: bun bench/llama/vision-compare.ts [--rounds N] [--threads N] [--isolation process|worker]
 */
import createLlamaAdapter from '@cy/adapter-llama'
import { Server } from '@cy/http'
import { parseArgs } from 'node:util'
import { startMtmdReference } from '../../test/fixtures/llama/reference-mtmd.ts'
import { tinyImageDataUri, TINY_IMAGE_NAMES } from '../../test/fixtures/llama/tiny-images.ts'
import { tinyVisionFixture } from '../../test/fixtures/llama/tiny-vision.ts'

const { values } = parseArgs({ args: Bun.argv.slice(2), options: { rounds: { type: 'string', default: '15' }, threads: { type: 'string', default: '2' }, isolation: { type: 'string', default: 'process' } } })
const rounds = Number(values.rounds)
const threads = Number(values.threads)
const fixture = tinyVisionFixture()
const images = await Promise.all(TINY_IMAGE_NAMES.map((name) => tinyImageDataUri(name)))

const loaded = await createLlamaAdapter({ quiet: true }).load({
  name: 'vision',
  adapter: 'llama',
  path: fixture.model,
  options: { mmproj: fixture.mmproj, threads, parallel: 1, contextSize: 2048, embeddings: false, isolation: values.isolation },
})
const cy = new Server({ port: 0, hostname: '127.0.0.1' })
cy.registerModel('vision', loaded.providers, { metadata: loaded.metadata })
await cy.start()
const reference = await startMtmdReference({ model: fixture.model, mmproj: fixture.mmproj, threads })

async function ask(base: string, image: string): Promise<number> {
  const started = performance.now()
  const response = await fetch(`${base}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      model: 'vision',
      temperature: 0,
      max_tokens: 8,
      messages: [{ role: 'user', content: [{ type: 'text', text: 'What is this?' }, { type: 'image_url', image_url: { url: image } }] }],
    }),
  })
  if (!response.ok) throw new Error(`${base}: ${response.status} ${await response.text()}`)
  await response.json()
  return performance.now() - started
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!
const targets = { cy: cy.url, 'llama-server': reference.url }
const times: Record<string, Record<'fresh' | 'again', number[]>> = { cy: { fresh: [], again: [] }, 'llama-server': { fresh: [], again: [] } }
// Warm-up: the first encode builds the projector's compute graph.
for (const base of Object.values(targets)) await ask(base, images[0]!)
for (let round = 0; round < rounds; round++) {
  const order = round % 2 === 0 ? (['cy', 'llama-server'] as const) : (['llama-server', 'cy'] as const)
  for (const name of order) {
    times[name]!.fresh.push(await ask(targets[name], images[(round % (images.length - 1)) + 1]!))
    times[name]!.again.push(await ask(targets[name], images[(round % (images.length - 1)) + 1]!))
  }
}
for (const kind of ['fresh', 'again'] as const) {
  const ours = median(times.cy![kind])
  const theirs = median(times['llama-server']![kind])
  console.log(`${kind === 'fresh' ? 'new image   ' : 'same image  '} cy ${ours.toFixed(2)} ms   llama-server ${theirs.toFixed(2)} ms   ratio ${(ours / theirs).toFixed(2)}`)
}
await cy.stop()
await loaded.dispose()
await reference.stop()
