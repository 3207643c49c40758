/**
 * bench/sensevoice: the adapter against sherpa-onnx-node on the same SenseVoice model, audio and threads, rounds
 * alternating: real-time factor (seconds of processing per second of audio; lower is faster), medians, and the ratio.
 *  - adapter: a WAV upload through the loaded model (isolation 'worker'): decoding the WAV, splitting at silences,
 *    the frontend, onnxruntime, CTC and the tags, in its engine Worker;
 *  - engine: the same engine on the decoded samples in this thread (no upload, no Worker hop);
 *  - sherpa: sherpa-onnx-node's OfflineRecognizer on those samples (its own frontend and onnxruntime).
 * Usage: bun bench/sensevoice/index.ts [--seconds N] [--rounds N] [--threads N] [--model PATH (tokens.txt beside it)]
 * Without --model it runs the tiny random-weight fixture, where the frontend dominates; a real SenseVoice-Small
 * (sherpa-onnx's model.int8.onnx) measures the graph.
 */
import createSenseVoiceAdapter from '@cy/adapter-sensevoice'
import { decodeAudio } from '@cy/audio'
import { OutputChannel, type OutputChunk, type WorkerSink } from '@cy/core'
import { dirname, join } from 'node:path'
import { parseArgs } from 'node:util'
import { SenseVoiceEngine } from '../../packages/adapter-sensevoice/src/engine/sensevoice-engine.ts'
import { wav } from '../../test/audio/wav-fixtures.ts'
import { sherpaDecode } from '../../test/fixtures/sensevoice/reference-sherpa.ts'
import { tinySenseVoiceFixture } from '../../test/fixtures/sensevoice/sensevoice-fixtures.ts'
import { seededRandom } from '../../test/fixtures/seeded-random.ts'

const { values } = parseArgs({
  args: Bun.argv.slice(2),
  options: { seconds: { type: 'string' }, rounds: { type: 'string' }, threads: { type: 'string' }, model: { type: 'string' } },
})
const seconds = Number(values.seconds ?? 60)
const rounds = Number(values.rounds ?? 5)
const threads = Number(values.threads ?? 2)
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

const model = values.model ?? tinySenseVoiceFixture({ variant: 'random' }).model
const tokens = join(dirname(model), 'tokens.txt')

/** Speech-like audio: a gliding voiced tone at syllable rate with noise, and a short pause every 7 s. */
function speechLike(): Float32Array {
  const random = seededRandom(7)
  const out = new Float32Array(seconds * 16_000)
  let phase = 0
  for (let i = 0; i < out.length; i++) {
    const t = i / 16_000
    phase += (2 * Math.PI * (150 + 90 * Math.sin(2 * Math.PI * 0.7 * t))) / 16_000
    const pause = t % 7 > 6.5 ? 0 : 1
    out[i] = pause * (0.5 + 0.5 * Math.sin(2 * Math.PI * 4 * t)) * (0.3 * Math.sin(phase) + 0.1 * Math.sin(3 * phase)) + 0.01 * (random() * 2 - 1)
  }
  return out
}
const wavBytes = wav(speechLike(), 16_000, 1, 's16')
const samples = (await decodeAudio(wavBytes, {}, 16_000)).samples

const loaded = await createSenseVoiceAdapter({ quiet: true }).load({ name: 'bench', adapter: 'sensevoice', path: model, options: { threads, isolation: 'worker' } })
const engine = await SenseVoiceEngine.load({ model, tokens, threads, maxSegmentSeconds: 30 })
console.log(`bench/sensevoice: ${seconds} s of audio, ${threads} threads, ${rounds} rounds; model ${model}`)

async function adapterSeconds(): Promise<number> {
  const channel = new OutputChannel()
  const started = performance.now()
  // A copy per call: the model moves the file's buffer to its Worker.
  const done = loaded.providers.asr!({ task: 'transcribe', model: 'bench', file: { name: 'a.wav', type: 'audio/wav', bytes: wavBytes.slice() } }, channel)
  for await (const _chunk of channel) {
    // drain
  }
  await done
  return (performance.now() - started) / 1000
}

/** The engine's own sink in this thread: it keeps nothing. */
const discard: WorkerSink = { signal: new AbortController().signal, aborted: false, abortFlag: new Int32Array(1), push: (_chunk: OutputChunk) => true, ready: () => Promise.resolve() }
async function engineSeconds(): Promise<number> {
  const started = performance.now()
  await engine.transcribe({ samples, language: 'auto', itn: true, wordTimestamps: false, rawText: false }, discard)
  return (performance.now() - started) / 1000
}

async function sherpaSeconds(): Promise<number> {
  const started = performance.now()
  await sherpaDecode({ model, tokens, samples, sampleRate: 16_000, useItn: true, threads })
  return (performance.now() - started) / 1000
}

// Warm-up: each loads or touches its session once.
await adapterSeconds()
await engineSeconds()
await sherpaSeconds()
const adapter: number[] = []
const engineOnly: number[] = []
const sherpa: number[] = []
for (let round = 0; round < rounds; round++) {
  // Alternating order, so neither side always runs on a warmer machine.
  const order = round % 2 === 0 ? [adapterSeconds, engineSeconds, sherpaSeconds] : [sherpaSeconds, engineSeconds, adapterSeconds]
  for (const run of order) {
    const time = (await run()) / seconds
    ;(run === adapterSeconds ? adapter : run === engineSeconds ? engineOnly : sherpa).push(time)
  }
}

const row = (name: string, rtf: number[]) => `${name.padEnd(8)} RTF median ${median(rtf).toFixed(5)} (${rtf.map((x) => x.toFixed(5)).join(', ')})`
console.log(row('adapter', adapter))
console.log(row('engine', engineOnly))
console.log(row('sherpa', sherpa))
console.log(`ratio adapter / sherpa ${(median(adapter) / median(sherpa)).toFixed(3)}; engine / sherpa ${(median(engineOnly) / median(sherpa)).toFixed(3)} (aim ≤ 1.05)`)

await loaded.dispose()
await engine.dispose()
