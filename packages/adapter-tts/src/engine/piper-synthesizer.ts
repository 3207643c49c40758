import { feedsFor } from '@cy/onnx'
import { readFile } from 'node:fs/promises'
import { basename } from 'node:path'
import type { PhonemizedClause } from '../espeak/espeak-phonemizer.ts'
import { piperIds } from '../piper/piper-ids.ts'
import { parsePiperConfig, type PiperConfig } from '../voices/piper-config.ts'
import { TtsModelError } from '../voices/tts-model-error.ts'
import type { VoiceEntry } from '../voices/voice-entry.ts'
import type { SpeakArgs } from './speak-args.ts'
import { runToSamples, type Session, type Synthesizer } from './synthesizer.ts'

const PIPER_INPUTS = ['input', 'input_lengths', 'scales']

/** A Piper (VITS) voice: `input` ids, `input_lengths`, `scales` [noise_scale, length_scale, noise_w], and `sid` when it has several speakers. */
export class PiperSynthesizer implements Synthesizer {
  readonly kind = 'piper'
  readonly voices: VoiceEntry[]

  private constructor(
    readonly session: Session,
    readonly config: PiperConfig,
    name: string,
  ) {
    const speakers = Object.entries(config.speakers)
    this.voices = speakers.length > 1 ? speakers.map(([speaker, sid]) => ({ id: speaker, name: speaker, language: config.espeakVoice, sid })) : [{ id: name, name, language: config.espeakVoice }]
  }

  static async create(session: Session, configPath: string, model: string): Promise<PiperSynthesizer> {
    const config = parsePiperConfig(await readFile(configPath, 'utf8'), configPath)
    const missing = PIPER_INPUTS.filter((input) => !session.inputNames.includes(input))
    if (missing.length) throw new TtsModelError(`${model} is not a Piper graph: no input ${missing.join(', ')} (its inputs: ${session.inputNames.join(', ')})`)
    if (config.numSpeakers > 1 && !session.inputNames.includes('sid')) throw new TtsModelError(`${model}: ${config.numSpeakers} speakers in its config, but the graph has no sid input`)
    return new PiperSynthesizer(session, config, basename(model, '.onnx'))
  }

  get sampleRate(): number {
    return this.config.sampleRate
  }

  async synthesize(clauses: PhonemizedClause[], args: SpeakArgs): Promise<{ samples: Float32Array; ids: number[] }> {
    const ids = piperIds(clauses, this.config.phonemeIdMap)
    const sid = args.voice.kind === 'piper' ? args.voice.sid : 0
    const scales = [args.noiseScale ?? this.config.noiseScale, this.config.lengthScale / args.speed, args.noiseW ?? this.config.noiseW]
    const feeds = feedsFor(this.session, {
      input: { data: ids, dims: [1, ids.length] },
      input_lengths: { data: [ids.length], dims: [1] },
      scales: { data: Float32Array.from(scales), dims: [3] },
      ...(this.session.inputNames.includes('sid') ? { sid: { data: [sid], dims: [1] } } : {}),
    })
    return { samples: await runToSamples(this.session, feeds), ids }
  }
}
