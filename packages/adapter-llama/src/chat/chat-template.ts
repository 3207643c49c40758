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

/** An image part of the messages, in prompt order. */
export interface TemplateImage {
  url: string
  /** The request part it came from ("messages[0].content[1].image_url.url"). */
  param: string
}

/**
 * Flattens OpenAI message content to the text a model's template reads. Each image part becomes
 * `mediaMarker` (and is listed in `images`) for a model with a projector; for a text-only model it is
 * refused, not dropped. A message with images joins its parts as llama-server does (a line break
 * between text parts, none beside an image); text-only parts are joined as they are.
 */
export function templateMessages(messages: ChatMessage[], mediaMarker?: string, images: TemplateImage[] = []): TemplateMessage[] {
  return messages.map((message, index) => {
    let content = ''
    if (typeof message.content === 'string') content = message.content
    else if (Array.isArray(message.content)) {
      const withMedia = message.content.some((part) => part.type === 'image_url')
      let afterMedia = false
      message.content.forEach((part, at) => {
        if (part.type === 'image_url' && mediaMarker) {
          content += mediaMarker
          images.push({ url: part.image_url.url, param: `messages[${index}].content[${at}].image_url.url` })
          afterMedia = true
          return
        }
        if (part.type !== 'text' && part.type !== 'refusal') {
          const why = part.type === 'image_url' ? 'it has no projector (mmproj) for images' : `it reads no ${part.type} parts`
          throw new BadRequestError(`This model reads text only (${why}): messages[${index}] has a ${part.type} part`, { param: `messages[${index}].content`, code: 'unsupported_content' })
        }
        if (withMedia && content && !afterMedia) content += '\n'
        content += part.type === 'text' ? part.text : part.refusal
        afterMedia = false
      })
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
