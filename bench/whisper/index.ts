/**
 * bench/whisper: the adapter against whisper-cli on the same model, audio and threads, in one run:
 *  1. real-time factor (seconds of processing per second of audio; lower is faster), adapter vs CLI;
 *  2. the cost of decoding audio into 16 kHz samples, per minute of audio: WAV natively, mp3 through ffmpeg;
 *     and an hour of 8 kHz WAV (telephone audio: the upsampling case).
 * Usage: bun bench/whisper/index.ts [--seconds N] [--rounds N] [--threads N] [--model PATH]
 */
import createWhisperAdapter, { resolveWhisperLibrary } from '@cy/adapter-whisper'
import { decodeAudio, ffmpegPath } from '@cy/audio'
import { OutputChannel } from '@cy/core'
import { existsSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { parseArgs } from 'node:util'
import { tone, wav } from '../../test/audio/wav-fixtures.ts'
import { writeTinyWhisper } from '../../test/fixtures/whisper/tiny-whisper.ts'

const { values } = parseArgs({
  args: Bun.argv.slice(2),
  options: { seconds: { type: 'string' }, rounds: { type: 'string' }, threads: { type: 'string' }, model: { type: 'string' } },
})
const seconds = Number(values.seconds ?? 60)
const rounds = Number(values.rounds ?? 3)
const threads = Number(values.threads ?? 2)
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

const modelPath = values.model ?? join(tmpdir(), 'cy-bench-whisper-tiny.bin')
if (!existsSync(modelPath)) await writeTinyWhisper(modelPath)
const audioPath = join(tmpdir(), `cy-bench-whisper-${seconds}s.wav`)
const samples = tone(220, 16_000, seconds)
for (let i = 0; i < samples.length; i++) samples[i]! += 0.05 * Math.sin(i * 12.9898) // a little texture
const wavBytes = wav(samples, 16_000, 1, 's16')
await writeFile(audioPath, wavBytes)

const library = await resolveWhisperLibrary(undefined)
const cli = join(dirname(library.libDir), 'bin', 'whisper-cli')
const model = await createWhisperAdapter({ quiet: true }).load({ name: 'bench', adapter: 'whisper', path: modelPath, options: { threads, parallel: 1, fallback: false } })
console.log(`bench/whisper: ${seconds} s of audio, ${threads} threads, ${rounds} rounds; model ${modelPath}; whisper.cpp from ${library.source}`)

async function adapterSeconds(): Promise<number> {
  const channel = new OutputChannel()
  // A copy per call: the model moves the file's buffer to its Worker.
  const started = performance.now()
  const done = model.providers.asr!({ task: 'transcribe', model: 'bench', file: { name: 'a.wav', type: 'audio/wav', bytes: wavBytes.slice() }, language: 'en', temperature: 0 }, channel)
  for await (const _chunk of channel) {
    // drain
  }
  await done
  return (performance.now() - started) / 1000
}

/** whisper-cli's own timing, less its model load (the adapter's model stays loaded between requests). */
async function cliSeconds(): Promise<number> {
  const child = Bun.spawn([cli, '-m', modelPath, '-f', audioPath, '-t', String(threads), '-l', 'en', '-bs', '1', '-bo', '1', '-nf'], { stdout: 'pipe', stderr: 'pipe' })
  const [, log] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text()])
  if ((await child.exited) !== 0) throw new Error('whisper-cli failed')
  const ms = (label: string) => Number(new RegExp(`${label} =\\s+([0-9.]+) ms`).exec(log)?.[1] ?? NaN)
  return (ms('total time') - ms('load time')) / 1000
}

const adapter: number[] = []
const reference: number[] = []
await adapterSeconds()
for (let round = 0; round < rounds; round++) {
  adapter.push((await adapterSeconds()) / seconds)
  reference.push((await cliSeconds()) / seconds)
}

// Decoding cost per minute of audio.
const wavCost: number[] = []
const mp3Cost: number[] = []
const mp3 = ffmpegPath()
  ? new Uint8Array(await new Response(Bun.spawn([ffmpegPath()!, '-hide_banner', '-loglevel', 'error', '-i', audioPath, '-f', 'mp3', 'pipe:1'], { stdout: 'pipe' }).stdout).arrayBuffer())
  : undefined
const wav44 = wav(tone(220, 44_100, seconds, 2), 44_100, 2, 's16')
const hour8k = wav(tone(220, 8_000, 3600, 1), 8_000, 1, 's16')
const hourCost: number[] = []
for (let round = 0; round < rounds; round++) {
  let started = performance.now()
  await decodeAudio(hour8k)
  hourCost.push(performance.now() - started)
  started = performance.now()
  await decodeAudio(wav44)
  wavCost.push((performance.now() - started) / (seconds / 60))
  if (mp3) {
    started = performance.now()
    await decodeAudio(mp3)
    mp3Cost.push((performance.now() - started) / (seconds / 60))
  }
}
await model.dispose()

console.log('')
console.log('benchmark'.padEnd(44) + 'adapter'.padEnd(12) + 'whisper-cli'.padEnd(14) + 'ratio (cli / adapter)')
console.log('real-time factor (lower is faster)'.padEnd(44) + median(adapter).toFixed(4).padEnd(12) + median(reference).toFixed(4).padEnd(14) + (median(reference) / median(adapter)).toFixed(2) + '   aim >= 0.95')
console.log('')
console.log(`audio decoding per minute of audio: WAV 44.1 kHz stereo -> 16 kHz mono ${median(wavCost).toFixed(1)} ms` + (mp3 ? `; mp3 through ffmpeg ${median(mp3Cost).toFixed(1)} ms` : '; (no ffmpeg for mp3)'))
console.log(`audio decoding of one hour of 8 kHz mono WAV -> 16 kHz: ${median(hourCost).toFixed(0)} ms`)
process.exit(0)
