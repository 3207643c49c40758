import type { ModelInfo } from '@cy/core'
import { modelVoices } from './voices.ts'

const seconds = (ms: number | undefined) => (ms === undefined ? null : Math.floor(ms / 1000))
const text = (value: unknown) => (typeof value === 'string' ? value : null)
const integer = (value: unknown) => (typeof value === 'number' && Number.isInteger(value) ? value : null)

/** A model in OpenAI's shape, with cy's `cy` extension object beside its fields. */
export function modelObject(info: ModelInfo) {
  const { metadata, status } = info
  return {
    id: info.id,
    object: 'model' as const,
    created: info.created,
    owned_by: info.ownedBy,
    cy: {
      state: status.state,
      ...(status.reason ? { reason: status.reason } : {}),
      ...(status.progress ? { progress: status.progress } : {}),
      adapter: text(metadata.adapter),
      capabilities: info.capabilities,
      context_length: integer(metadata.contextSize ?? metadata.contextLength),
      file: text(metadata.path),
      size_bytes: integer(metadata.sizeBytes),
      loaded_at: seconds(status.loadedAt),
      last_used_at: seconds(info.lastUsedAt),
      // Other names of the same model (a catalog model's Hugging Face id), and on an alias, the name it stands for.
      ...(Array.isArray(metadata.aliases) && metadata.aliases.length ? { aliases: metadata.aliases.filter((name): name is string => typeof name === 'string') } : {}),
      ...(typeof metadata.aliasOf === 'string' ? { alias_of: metadata.aliasOf } : {}),
      ...(info.capabilities.includes('tts') ? { voices: modelVoices(info) } : {}),
    },
  }
}
