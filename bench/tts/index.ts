/**
 * bench/tts: the adapter against sherpa-onnx-node's OfflineTts on the same Piper voice, text and threads, rounds
 * alternating: time to the first audio and real-time factor (seconds of processing per second of audio; lower is
 * faster), medians and ratios.
 *  - adapter: a speech request through the loaded model (isolation 'worker'): normalising and splitting the text,
 *    espeak-ng, the ids, onnxruntime, in its engine Worker; first = its first `audio` chunk (the first clause),
 *    total = its usage chunk;
 *  - engine: the same engine on this thread (no Worker hop, no channel), same first / total;
 *  - sherpa: OfflineTts.generateAsync on the same text (its own espeak-ng frontend and onnxruntime); it hands the
 *    audio back whole, so its first audio is its total.
 * Usage: bun bench/tts/index.ts [--rounds N] [--threads N] [--kokoro] [--model PATH] [--text "…"]
 * --model: a Piper .onnx (its .onnx.json and sherpa's tokens.txt beside it), or a Kokoro .onnx (sherpa's voices.bin
 * and tokens.txt beside it). Without it, the tiny random-weight fixture voice (Piper, or Kokoro with --kokoro),
 * where the frontend dominates; a real voice measures the graph.
 */
import createTtsAdapter from '@cy/adapter-tts'
import { OutputChannel, type OutputChunk, type SpeechRequest, type WorkerSink } from '@cy/core'
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { parseArgs } from 'node:util'
import { TtsEngine } from '../../packages/adapter-tts/src/engine/tts-engine.ts'
import { resolveEspeak } from '../../packages/adapter-tts/src/espeak/resolve-espeak.ts'
import { ttsFiles } from '../../packages/adapter-tts/src/voices/tts-files.ts'
import { SPEECH_PARAGRAPH } from '../../test/adapter-tts/tts-conformance-target.ts'
import { sherpaSpeak } from '../../test/fixtures/tts/reference-sherpa-tts.ts'
import { tinyKokoroFixture, tinyPiperFixture } from '../../test/fixtures/tts/tts-fixtures.ts'

const { values } = parseArgs({
  args: Bun.argv.slice(2),
  options: { rounds: { type: 'string' }, threads: { type: 'string' }, model: { type: 'string' }, text: { type: 'string' }, kokoro: { type: 'boolean' } },
})
const rounds = Number(values.rounds ?? 7)
const threads = Number(values.threads ?? 2)
const text = values.text ?? SPEECH_PARAGRAPH
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

const model = values.model ?? (values.kokoro ? tinyKokoroFixture({ variant: 'random' }) : tinyPiperFixture({ speakers: 1, variant: 'random' })).model
const kind = existsSync(`${model}.json`) ? 'piper' : 'kokoro'
const tokens = join(dirname(model), 'tokens.txt')
const voices = join(dirname(model), 'voices.bin')

const loaded = await createTtsAdapter({ quiet: true }).load({ name: 'bench', adapter: 'tts', path: model, options: { threads, isolation: 'worker' } })
// The model's first voice (sherpa's speaker 0).
const voice = (loaded.metadata?.voices as Array<{ id: string }>)[0]!.id
const espeak = await resolveEspeak()
const engine = await TtsEngine.load({ files: await ttsFiles(model), name: 'bench', espeak: { library: espeak.library, dataPath: espeak.dataPath }, threads })
console.log(`bench/tts: ${text.length} characters, ${threads} threads, ${rounds} rounds; ${kind} ${model}, voice ${voice}`)

interface Run {
  first: number
  total: number
  audioSeconds: number
}

async function adapterRun(): Promise<Run> {
  const channel = new OutputChannel()
  const started = performance.now()
  const request = { model: 'bench', input: text, voice, response_format: 'pcm' } as SpeechRequest
  const done = loaded.providers.tts!(request, channel)
  let first = 0
  let samples = 0
  let rate = 0
  for await (const chunk of channel) {
    if (chunk.type !== 'audio') continue
    first ||= performance.now() - started
    samples += chunk.data.byteLength / 2
    rate = chunk.sampleRate ?? rate
  }
  await done
  return { first: first / 1000, total: (performance.now() - started) / 1000, audioSeconds: samples / rate }
}

async function engineRun(): Promise<Run> {
  let first = 0
  let samples = 0
  const started = performance.now()
  // The engine's own sink on this thread: it counts what it is given.
  const sink: WorkerSink = {
    signal: new AbortController().signal,
    aborted: false,
    abortFlag: new Int32Array(1),
    push: (chunk: OutputChunk) => {
      if (chunk.type === 'audio') {
        first ||= performance.now() - started
        samples += chunk.data.byteLength / 2
      }
      return true
    },
    ready: () => Promise.resolve(),
  }
  const entry = engine.info.voices[0]!
  await engine.speak({ input: text, voice: engine.info.kind === 'piper' ? { kind: 'piper', sid: entry.sid ?? 0 } : { kind: 'kokoro', mix: [{ index: 0, weight: 1 }] }, language: entry.language, speed: 1, sentencePauseMs: 250, clausePauseMs: 120 }, sink)
  return { first: first / 1000, total: (performance.now() - started) / 1000, audioSeconds: samples / engine.info.sampleRate }
}

async function sherpaRun(): Promise<Run> {
  const started = performance.now()
  const { samples, sampleRate } = await sherpaSpeak({ kind, model, tokens, text, threads, ...(kind === 'kokoro' ? { voices } : {}) })
  const total = (performance.now() - started) / 1000
  return { first: total, total, audioSeconds: samples.length / sampleRate }
}

// Warm-up: each touches its session once.
await adapterRun()
await engineRun()
await sherpaRun()
const adapter: Run[] = []
const engineOnly: Run[] = []
const sherpa: Run[] = []
for (let round = 0; round < rounds; round++) {
  // Alternating order, so neither side always runs on a warmer machine.
  const order = round % 2 === 0 ? [adapterRun, engineRun, sherpaRun] : [sherpaRun, engineRun, adapterRun]
  for (const run of order) (run === adapterRun ? adapter : run === engineRun ? engineOnly : sherpa).push(await run())
}

const rtf = (runs: Run[]) => runs.map((r) => r.total / r.audioSeconds)
const ms = (s: number) => `${(s * 1000).toFixed(1)} ms`
const row = (name: string, runs: Run[]) =>
  `${name.padEnd(8)} first audio ${ms(median(runs.map((r) => r.first)))}, total ${ms(median(runs.map((r) => r.total)))}, ` +
  `audio ${median(runs.map((r) => r.audioSeconds)).toFixed(2)} s, RTF median ${median(rtf(runs)).toFixed(5)} (${rtf(runs).map((x) => x.toFixed(5)).join(', ')})`
console.log(row('adapter', adapter))
console.log(row('engine', engineOnly))
console.log(row('sherpa', sherpa))
console.log(
  `ratio adapter / sherpa: RTF ${(median(rtf(adapter)) / median(rtf(sherpa))).toFixed(3)} (aim ≤ 1.05), total ${(median(adapter.map((r) => r.total)) / median(sherpa.map((r) => r.total))).toFixed(3)}, ` +
    `first audio ${(median(adapter.map((r) => r.first)) / median(sherpa.map((r) => r.first))).toFixed(3)} of sherpa’s whole run; engine / sherpa: RTF ${(median(rtf(engineOnly)) / median(rtf(sherpa))).toFixed(3)}`,
)

await loaded.dispose()
await engine.dispose()
