import type { ModelInfo } from '@cy/core'
import { t } from 'elysia'

/** One voice a text-to-speech model offers, as its adapter lists it in `metadata.voices`. */
export interface Voice {
  id: string
  name: string
  language?: string
}

export const VoiceList = t.Object({
  voices: t.Array(t.Object({ id: t.String(), name: t.String(), language: t.Optional(t.String()), model: t.String() })),
})

/** The voices a model's metadata lists (well-formed entries only: the metadata is the adapter's free-form facts). */
export function modelVoices(info: ModelInfo): Voice[] {
  const listed = info.metadata.voices
  if (!Array.isArray(listed)) return []
  return listed.flatMap((voice) => {
    const { id, name, language } = (voice ?? {}) as Record<string, unknown>
    if (typeof id !== 'string') return []
    return [{ id, name: typeof name === 'string' ? name : id, ...(typeof language === 'string' ? { language } : {}) }]
  })
}
