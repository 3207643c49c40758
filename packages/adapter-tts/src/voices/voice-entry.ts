/** A voice as `/v1/audio/voices` lists it. */
export interface VoiceInfo {
  id: string
  name: string
  /** The espeak-ng voice its phonemes come from ("en-us"); the voice list shows it. */
  language: string
}

/** A voice of a loaded model; a Piper speaker carries its sid. */
export interface VoiceEntry extends VoiceInfo {
  sid?: number
}

/** What the engine synthesizes with: a Piper speaker, or a Kokoro mix of style tables (weights summing to 1). */
export type VoiceChoice = { kind: 'piper'; sid: number } | { kind: 'kokoro'; mix: Array<{ index: number; weight: number }> }

/** Kokoro v1.0's voice names start with their language (hexgrad/kokoro pipeline.py LANG_CODES), as espeak-ng names it. */
const KOKORO_LANGUAGES: Record<string, string> = { a: 'en-us', b: 'en-gb', e: 'es', f: 'fr-fr', h: 'hi', i: 'it', j: 'ja', p: 'pt-br', z: 'cmn' }

export function kokoroVoiceLanguage(name: string): string {
  return KOKORO_LANGUAGES[name[0] ?? ''] ?? 'en-us'
}
