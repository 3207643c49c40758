/** A1111's `<lora:name:weight>` (weight optional, default 1), as sd-cli reads it. */
const LORA_TAG = /<lora:([^:>]+)(?::([^>]*))?>/g

export interface LoraRequest {
  name: string
  weight: number
}

/** The prompt without its LoRA tags (OpenAI's `revised_prompt`), and the LoRAs they named. */
export function extractLoraTags(prompt: string): { prompt: string; loras: LoraRequest[]; invalid: string[] } {
  const loras: LoraRequest[] = []
  const invalid: string[] = []
  const stripped = prompt.replace(LORA_TAG, (tag, name: string, weight: string | undefined) => {
    const value = weight === undefined || weight.trim() === '' ? 1 : Number(weight)
    if (!Number.isFinite(value)) invalid.push(tag)
    else loras.push({ name: name.trim(), weight: value })
    return ''
  })
  return { prompt: stripped.replace(/\s{2,}/g, ' ').trim(), loras, invalid }
}
