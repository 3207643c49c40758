import { Template } from '@huggingface/jinja'
import type { DatasetMessage } from './dataset-records.ts'

/**
 * A `renderChat` for loadTrainingDataset from a model's own Jinja chat template: the whole conversation
 * as the model saw it in use, without the generation prompt inference adds (the last turn is in the data).
 */
export function trainingChatRenderer(source: string, bosToken: string, eosToken: string): (messages: DatasetMessage[]) => string {
  const template = new Template(source)
  return (messages) => template.render({ messages, add_generation_prompt: false, bos_token: bosToken, eos_token: eosToken })
}
