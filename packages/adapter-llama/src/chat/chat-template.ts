import { BadRequestError, type ChatMessage, type FunctionTool } from '@cy/core'
import { Template } from '@huggingface/jinja'

/** A message as chat templates expect it: text content only. */
export interface TemplateMessage {
  role: string
  content: string
  tool_calls?: unknown
  tool_call_id?: string
  name?: string
}

/** Flattens OpenAI message content to the text a text-only model reads; images are refused, not dropped. */
export function templateMessages(messages: ChatMessage[]): TemplateMessage[] {
  return messages.map((message, index) => {
    let content = ''
    if (typeof message.content === 'string') content = message.content
    else if (Array.isArray(message.content)) {
      for (const part of message.content) {
        if (part.type === 'text') content += part.text
        else if (part.type === 'refusal') content += part.refusal
        else throw new BadRequestError(`This model reads text only: messages[${index}] has a ${part.type} part`, { param: `messages[${index}].content` })
      }
    }
    const out: TemplateMessage = { role: message.role === 'developer' ? 'system' : message.role, content }
    if (message.tool_calls) out.tool_calls = message.tool_calls
    if (message.tool_call_id) out.tool_call_id = message.tool_call_id
    if (message.name) out.name = message.name
    return out
  })
}

/** The model's own Jinja chat template (from its GGUF metadata), rendered as Hugging Face does. */
export class ChatTemplate {
  readonly #template: Template

  constructor(
    readonly source: string,
    readonly bosToken: string,
    readonly eosToken: string,
  ) {
    this.#template = new Template(source)
  }

  render(messages: TemplateMessage[], tools?: FunctionTool[]): string {
    try {
      return this.#template.render({
        messages,
        add_generation_prompt: true,
        bos_token: this.bosToken,
        eos_token: this.eosToken,
        ...(tools?.length ? { tools } : {}),
      })
    } catch (error) {
      // The template parsed at load, so what fails now is these messages: its own raise_exception
      // ("roles must alternate") or a shape it cannot handle. The client's mistake, not the server's.
      throw new BadRequestError(`This model's chat template refuses these messages: ${(error as Error).message}`, { param: 'messages' })
    }
  }
}
